/** Sensor and event/reading types the core knows by name (IPMI 2.0 tables 42-1 and 42-3, PICMG 3.0). */
export const SENSOR_TYPE = {
  temperature: 0x01,
  voltage: 0x02,
  fan: 0x04,
  processor: 0x07,
  powerSupply: 0x08,
  watchdog2: 0x23,
  fruHotSwap: 0xf0,
} as const;

export const EVENT_TYPE = {
  threshold: 0x01,
  sensorSpecific: 0x6f,
} as const;
