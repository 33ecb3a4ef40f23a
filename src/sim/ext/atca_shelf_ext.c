/*
 * atca_shelf_ext.c - makes OpenIPMI's ipmi_sim behave like a real ATCA shelf.
 *
 * Stock ipmi_sim (2.0.33) answers 0xC1 to Set/Get FRU Activation Policy and
 * Set/Get Power Level, moves a FRU M4->M6->M1 in one step on deactivate, and
 * ignores activate in M1.  A real shelf behaves differently, and fence_atca is
 * written for the real behaviour, so this module:
 *   - tracks per board: hot-swap state, Locked / Deactivation-Locked bits,
 *     power level;
 *   - deactivate: M4 -> M6, then M1 after a payload shutdown delay (or never,
 *     when the board is told to stall), setting the Locked bit;
 *   - clearing Locked in M1 moves the board to M2 (as a real IPMC does);
 *     activate in M2 -> M3 -> M4 after an activation delay;
 *   - Set Power Level 0 removes payload power at once (M6/M4 -> M1);
 *   - FRU Control cold reset is counted, refused (0xD5) unless in M4;
 *   - logs every PICMG command it receives, one line each, to the file named
 *     in the loadlib options string ("log=/path"), so tests can assert what
 *     an agent really sent.
 * Everything else goes to the stock handle_picmg_msg.
 *
 * Console commands added (numbers take 0x for hex):
 *   atcax_board <mc> <hotswap-sensor-num>  register a board IPMC
 *   atcax_state <mc> <M>                   force hot-swap state (with event)
 *   atcax_stall <mc> 0|1                   stall graceful deactivation in M6
 *   atcax_delay <mc> <deact-ms> <act-ms>   payload shutdown / start-up time
 *   atcax_policy <mc> <locked> <deact-locked>
 *   atcax_show <mc>                        print the board's state
 *   atcax_strict <mc> 0|1                  deactivate while already in M6, and activate
 *                                          while already in M3, answer CC 0xD5 (as real
 *                                          IPMCs may) instead of a no-op CC 0
 *   atcax_deactivating <mc>                put the board in M6 as if a deactivate had been
 *                                          granted (Locked set, M1 after the delay unless
 *                                          stalled): what a second shelf manager shows of a
 *                                          FRU the first one deactivated
 *   atcax_stop_on <mc> <cmd> <after> [<b2>] the next PICMG command <cmd> to <mc> (whose
 *                                          data byte 2 is <b2>, if given: 0 deactivate, 1
 *                                          activate for 0x0C) makes ipmi_sim stop itself
 *                                          (SIGSTOP): <after> 0 on receipt, before it takes
 *                                          effect; 1 after it took effect, before the answer
 *                                          goes out. One-shot. SIGCONT resumes it (the
 *                                          command then completes and is answered, late);
 *                                          SIGKILL is a shelf manager dying at that moment.
 *   atcax_stop_clear <mc>                  forget a pending atcax_stop_on
 *   atcax_unsupported <mc> 0|1             1: Get/Set FRU Activation Policy and Get/Set Power
 *                                          Level answer CC 0xC1 (invalid command), as stock
 *                                          ipmi_sim and some IPMCs do
 *
 * Built by src/sim/build-ext.ts with gcc -shared -fPIC against libopenipmi-dev.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <OpenIPMI/mcserv.h>
#include <OpenIPMI/msg.h>
#include <OpenIPMI/serv.h>

/* Exported by ipmi_sim / libIPMIlanserv but not declared in the public headers (mystrtok is). */
void handle_picmg_msg(lmc_data_t *mc, msg_t *msg, unsigned char *rdata, unsigned int *rdata_len, void *cb_data);

#define PICMG_ID 0x00
#define CC_OK 0x00
#define CC_INVALID_CMD 0xC1
#define CC_BAD_LENGTH 0xC7
#define CC_INVALID_DATA 0xCC
#define CC_DEST_UNAVAILABLE 0xD3
#define CC_NOT_IN_STATE 0xD5

typedef struct board_s {
  int valid;
  lmc_data_t *mc;
  unsigned char ipmb;
  unsigned char hs_sensor;
  unsigned char state;      /* M0..M7 */
  unsigned char locked;     /* Activation policy bit 0 */
  unsigned char deact_locked; /* Activation policy bit 1 */
  unsigned char power_level;
  int stall;
  unsigned int deact_ms;
  unsigned int act_ms;
  unsigned int resets;
  ipmi_timer_t *timer;
  int pending; /* target state the timer will move to, or -1 */
  int strict;     /* deactivate in M6 / activate in M3 answer 0xD5 */
  int stop_cmd;   /* atcax_stop_on: PICMG command, or -1 */
  int stop_b2;    /* atcax_stop_on: required data byte 2, or -1 for any */
  int stop_after; /* atcax_stop_on: 1 after the effect, 0 on receipt */
  int unsupported; /* atcax_unsupported: policy and power level answer 0xC1 */
} board_t;

static sys_data_t *g_sys;
static board_t g_boards[256];
static FILE *g_log;

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...) {
  if (!g_log) return;
  struct timeval tv;
  gettimeofday(&tv, NULL);
  fprintf(g_log, "%ld.%03ld ", (long)tv.tv_sec, (long)(tv.tv_usec / 1000));
  va_list ap;
  va_start(ap, fmt);
  vfprintf(g_log, fmt, ap);
  va_end(ap);
  fputc('\n', g_log);
  fflush(g_log);
}

static void set_state(board_t *b, unsigned char m) {
  if (m > 7) return;
  log_line("state mc=0x%02x M%u->M%u", b->ipmb, b->state, m);
  b->state = m;
  ipmi_mc_sensor_set_bit_clr_rest(b->mc, 0, b->hs_sensor, m, 1);
}

static void cancel_timer(board_t *b) {
  if (b->timer && b->pending >= 0) g_sys->stop_timer(b->timer);
  b->pending = -1;
}

static void timer_fired(void *cb_data) {
  board_t *b = cb_data;
  int target = b->pending;
  b->pending = -1;
  if (target == 1 && b->state == 6) {
    b->power_level = 0;
    set_state(b, 1);
  } else if (target == 4 && b->state == 3) {
    b->power_level = 1;
    set_state(b, 4);
  }
}

static void schedule(board_t *b, int target, unsigned int ms) {
  struct timeval tv;
  cancel_timer(b);
  if (!b->timer && g_sys->alloc_timer(g_sys, timer_fired, b, &b->timer) != 0) {
    /* No timer: complete at once rather than hang the board. */
    b->pending = target;
    timer_fired(b);
    return;
  }
  b->pending = target;
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (ms % 1000) * 1000;
  g_sys->start_timer(b->timer, &tv);
}

static void reply(unsigned char *rdata, unsigned int *rdata_len, unsigned char cc) {
  rdata[0] = cc;
  if (cc == CC_OK) {
    rdata[1] = PICMG_ID;
    *rdata_len = 2;
  } else {
    *rdata_len = 1;
  }
}

static void start_activation(board_t *b) {
  set_state(b, 3);
  schedule(b, 4, b->act_ms);
}

static void handle_board(board_t *b, msg_t *msg, unsigned char *rdata, unsigned int *rdata_len) {
  unsigned char fru = msg->data[1];
  if (b->unsupported && (msg->cmd == 0x0A || msg->cmd == 0x0B || msg->cmd == 0x11 || msg->cmd == 0x12))
    return reply(rdata, rdata_len, CC_INVALID_CMD);
  switch (msg->cmd) {
    case 0x0A: /* Set FRU Activation Policy: fru, mask, values */
      if (msg->len < 4) return reply(rdata, rdata_len, CC_BAD_LENGTH);
      if (fru != 0) return reply(rdata, rdata_len, CC_DEST_UNAVAILABLE);
      if (msg->data[2] & 0x01) {
        unsigned char was = b->locked;
        b->locked = msg->data[3] & 0x01;
        if (was && !b->locked && b->state == 1) set_state(b, 2);
      }
      if (msg->data[2] & 0x02) b->deact_locked = (msg->data[3] >> 1) & 0x01;
      return reply(rdata, rdata_len, CC_OK);

    case 0x0B: /* Get FRU Activation Policy */
      if (msg->len < 2) return reply(rdata, rdata_len, CC_BAD_LENGTH);
      if (fru != 0) return reply(rdata, rdata_len, CC_DEST_UNAVAILABLE);
      rdata[0] = CC_OK;
      rdata[1] = PICMG_ID;
      rdata[2] = (unsigned char)(b->locked | (b->deact_locked << 1));
      *rdata_len = 3;
      return;

    case 0x0C: /* Set FRU Activation: fru, 0 deactivate / 1 activate */
      if (msg->len < 3) return reply(rdata, rdata_len, CC_BAD_LENGTH);
      if (fru != 0) return reply(rdata, rdata_len, CC_DEST_UNAVAILABLE);
      if (msg->data[2] > 1) return reply(rdata, rdata_len, CC_INVALID_DATA);
      if (msg->data[2] == 0) {
        if (b->strict && b->state == 6) return reply(rdata, rdata_len, CC_NOT_IN_STATE);
        if (b->state == 2) {
          /* An activation request not yet granted is simply withdrawn. */
          cancel_timer(b);
          b->locked = 1;
          set_state(b, 1);
        } else if (b->state == 3 || b->state == 4 || b->state == 5) {
          if (b->deact_locked && b->state == 4) return reply(rdata, rdata_len, CC_NOT_IN_STATE);
          cancel_timer(b);
          b->locked = 1;
          set_state(b, 6);
          if (!b->stall) schedule(b, 1, b->deact_ms);
        }
      } else {
        if (b->strict && b->state == 3) return reply(rdata, rdata_len, CC_NOT_IN_STATE);
        if (b->state == 1 && !b->locked) set_state(b, 2);
        if (b->state == 2) start_activation(b);
      }
      return reply(rdata, rdata_len, CC_OK);

    case 0x11: /* Set Power Level: fru, level, copy */
      if (msg->len < 4) return reply(rdata, rdata_len, CC_BAD_LENGTH);
      if (fru != 0) return reply(rdata, rdata_len, CC_DEST_UNAVAILABLE);
      if (msg->data[2] == 0) {
        /* Payload power removed: whatever the payload was doing, it is off now. */
        cancel_timer(b);
        b->power_level = 0;
        if (b->state >= 2 && b->state <= 6) {
          b->locked = 1;
          set_state(b, 1);
        }
      } else if (msg->data[2] != 0xFF) {
        b->power_level = msg->data[2];
      }
      return reply(rdata, rdata_len, CC_OK);

    case 0x12: /* Get Power Level: fru, type */
      if (msg->len < 3) return reply(rdata, rdata_len, CC_BAD_LENGTH);
      if (fru != 0) return reply(rdata, rdata_len, CC_DEST_UNAVAILABLE);
      rdata[0] = CC_OK;
      rdata[1] = PICMG_ID;
      rdata[2] = b->power_level & 0x0F;
      rdata[3] = 0;  /* delay to stable power */
      rdata[4] = 10; /* multiplier: 1 W */
      rdata[5] = 200; /* level 1 draws 200 W */
      *rdata_len = 6;
      return;

    case 0x04: /* FRU Control: fru, option */
      if (msg->len < 3) return reply(rdata, rdata_len, CC_BAD_LENGTH);
      if (fru != 0) return reply(rdata, rdata_len, CC_DEST_UNAVAILABLE);
      if (msg->data[2] > 3) return reply(rdata, rdata_len, CC_INVALID_DATA);
      if (b->state != 4) return reply(rdata, rdata_len, CC_NOT_IN_STATE);
      b->resets++;
      return reply(rdata, rdata_len, CC_OK);

    default:
      handle_picmg_msg(b->mc, msg, rdata, rdata_len, NULL);
      return;
  }
}

/* Freezes the whole simulator (atcax_stop_on): it neither answers nor refuses anything. */
static void stop_self(board_t *b, unsigned char cmd, const char *when) {
  log_line("stop mc=0x%02x cmd=0x%02x %s", b->ipmb, cmd, when);
  raise(SIGSTOP);
  log_line("cont mc=0x%02x cmd=0x%02x", b->ipmb, cmd);
}

static void picmg_handler(lmc_data_t *mc, msg_t *msg, unsigned char *rdata, unsigned int *rdata_len, void *cb_data) {
  unsigned char ipmb = g_sys->mc_get_ipmb(mc);
  char hex[3 * 64 + 1];
  char *p = hex;
  unsigned int i, n = msg->len < 64 ? msg->len : 64;
  (void)cb_data;
  hex[0] = '\0';
  for (i = 0; i < n; i++) p += snprintf(p, 4, "%s%02x", i ? " " : "", msg->data[i]);
  log_line("picmg mc=0x%02x cmd=0x%02x data=%s", ipmb, msg->cmd, hex);

  if (msg->len < 1 || msg->data[0] != PICMG_ID) {
    reply(rdata, rdata_len, CC_INVALID_DATA);
  } else if (g_boards[ipmb].valid && msg->len >= 2) {
    board_t *b = &g_boards[ipmb];
    int stop = b->stop_cmd == (int)msg->cmd && (b->stop_b2 < 0 || (msg->len >= 3 && msg->data[2] == b->stop_b2));
    if (stop) b->stop_cmd = -1; /* one-shot */
    if (stop && !b->stop_after) stop_self(b, msg->cmd, "before");
    handle_board(b, msg, rdata, rdata_len);
    if (stop && b->stop_after) stop_self(b, msg->cmd, "after");
  } else {
    handle_picmg_msg(mc, msg, rdata, rdata_len, NULL);
  }
  log_line("reply mc=0x%02x cmd=0x%02x cc=0x%02x", ipmb, msg->cmd, rdata[0]);
}

static int get_num(emu_out_t *out, char **toks, unsigned int *val, const char *what) {
  char *end;
  const char *s = mystrtok(NULL, " \t\n", toks);
  if (!s) {
    out->eprintf(out, "**No %s given\n", what);
    return EINVAL;
  }
  *val = (unsigned int)strtoul(s, &end, 0);
  if (*end != '\0') {
    out->eprintf(out, "**Invalid %s: %s\n", what, s);
    return EINVAL;
  }
  return 0;
}

static board_t *board_of(emu_out_t *out, lmc_data_t *mc) {
  board_t *b = &g_boards[g_sys->mc_get_ipmb(mc)];
  if (!b->valid) {
    out->eprintf(out, "**MC 0x%02x is not an atcax board\n", g_sys->mc_get_ipmb(mc));
    return NULL;
  }
  return b;
}

static int cmd_board(emu_out_t *out, emu_data_t *emu, lmc_data_t *mc, char **toks) {
  unsigned int sensor;
  unsigned char ipmb = g_sys->mc_get_ipmb(mc);
  board_t *b = &g_boards[ipmb];
  (void)emu;
  if (get_num(out, toks, &sensor, "hot-swap sensor number")) return EINVAL;
  memset(b, 0, sizeof(*b));
  b->valid = 1;
  b->mc = mc;
  b->ipmb = ipmb;
  b->hs_sensor = (unsigned char)sensor;
  b->deact_ms = 150;
  b->act_ms = 150;
  b->pending = -1;
  b->stop_cmd = -1;
  b->stop_b2 = -1;
  return 0;
}

static int cmd_state(emu_out_t *out, emu_data_t *emu, lmc_data_t *mc, char **toks) {
  unsigned int m;
  board_t *b = board_of(out, mc);
  (void)emu;
  if (!b || get_num(out, toks, &m, "hot-swap state")) return EINVAL;
  if (m > 7) {
    out->eprintf(out, "**state must be 0..7\n");
    return EINVAL;
  }
  cancel_timer(b);
  b->power_level = (m >= 3 && m <= 6) ? 1 : 0;
  set_state(b, (unsigned char)m);
  return 0;
}

static int cmd_stall(emu_out_t *out, emu_data_t *emu, lmc_data_t *mc, char **toks) {
  unsigned int v;
  board_t *b = board_of(out, mc);
  (void)emu;
  if (!b || get_num(out, toks, &v, "stall flag")) return EINVAL;
  b->stall = v != 0;
  return 0;
}

static int cmd_delay(emu_out_t *out, emu_data_t *emu, lmc_data_t *mc, char **toks) {
  unsigned int d, a;
  board_t *b = board_of(out, mc);
  (void)emu;
  if (!b || get_num(out, toks, &d, "deactivation ms") || get_num(out, toks, &a, "activation ms")) return EINVAL;
  b->deact_ms = d;
  b->act_ms = a;
  return 0;
}

static int cmd_policy(emu_out_t *out, emu_data_t *emu, lmc_data_t *mc, char **toks) {
  unsigned int l, dl;
  board_t *b = board_of(out, mc);
  (void)emu;
  if (!b || get_num(out, toks, &l, "locked bit") || get_num(out, toks, &dl, "deactivation-locked bit")) return EINVAL;
  b->locked = l != 0;
  b->deact_locked = dl != 0;
  return 0;
}

static int cmd_show(emu_out_t *out, emu_data_t *emu, lmc_data_t *mc, char **toks) {
  board_t *b = board_of(out, mc);
  (void)emu;
  (void)toks;
  if (!b) return EINVAL;
  out->eprintf(out, "atcax mc=0x%02x state=M%u locked=%u deact_locked=%u power=%u stall=%d resets=%u strict=%d\n",
               b->ipmb, b->state, b->locked, b->deact_locked, b->power_level, b->stall, b->resets, b->strict);
  return 0;
}

static int cmd_strict(emu_out_t *out, emu_data_t *emu, lmc_data_t *mc, char **toks) {
  unsigned int v;
  board_t *b = board_of(out, mc);
  (void)emu;
  if (!b || get_num(out, toks, &v, "strict flag")) return EINVAL;
  b->strict = v != 0;
  return 0;
}

static int cmd_deactivating(emu_out_t *out, emu_data_t *emu, lmc_data_t *mc, char **toks) {
  board_t *b = board_of(out, mc);
  (void)emu;
  (void)toks;
  if (!b) return EINVAL;
  cancel_timer(b);
  b->locked = 1;
  b->power_level = 1;
  set_state(b, 6);
  if (!b->stall) schedule(b, 1, b->deact_ms);
  return 0;
}

static int cmd_stop_on(emu_out_t *out, emu_data_t *emu, lmc_data_t *mc, char **toks) {
  unsigned int c, after, b2;
  char *end;
  const char *s;
  board_t *b = board_of(out, mc);
  (void)emu;
  if (!b || get_num(out, toks, &c, "PICMG command") || get_num(out, toks, &after, "after flag")) return EINVAL;
  if (c > 0xff) {
    out->eprintf(out, "**command must be 0..0xff\n");
    return EINVAL;
  }
  s = mystrtok(NULL, " \t\n", toks);
  if (s) {
    b2 = (unsigned int)strtoul(s, &end, 0);
    if (*end != '\0' || b2 > 0xff) {
      out->eprintf(out, "**Invalid data byte: %s\n", s);
      return EINVAL;
    }
    b->stop_b2 = (int)b2;
  } else {
    b->stop_b2 = -1;
  }
  b->stop_cmd = (int)c;
  b->stop_after = after != 0;
  return 0;
}

static int cmd_stop_clear(emu_out_t *out, emu_data_t *emu, lmc_data_t *mc, char **toks) {
  board_t *b = board_of(out, mc);
  (void)emu;
  (void)toks;
  if (!b) return EINVAL;
  b->stop_cmd = -1;
  b->stop_b2 = -1;
  return 0;
}

static int cmd_unsupported(emu_out_t *out, emu_data_t *emu, lmc_data_t *mc, char **toks) {
  unsigned int v;
  board_t *b = board_of(out, mc);
  (void)emu;
  if (!b || get_num(out, toks, &v, "unsupported flag")) return EINVAL;
  b->unsupported = v != 0;
  return 0;
}

int ipmi_sim_module_init(sys_data_t *sys, const char *initstr) {
  g_sys = sys;
  if (initstr && strncmp(initstr, "log=", 4) == 0 && initstr[4]) {
    g_log = fopen(initstr + 4, "a");
    if (!g_log) {
      fprintf(stderr, "atca_shelf_ext: cannot open log %s: %s\n", initstr + 4, strerror(errno));
      return errno;
    }
  }
  ipmi_emu_add_cmd("atcax_board", MC, cmd_board);
  ipmi_emu_add_cmd("atcax_state", MC, cmd_state);
  ipmi_emu_add_cmd("atcax_stall", MC, cmd_stall);
  ipmi_emu_add_cmd("atcax_delay", MC, cmd_delay);
  ipmi_emu_add_cmd("atcax_policy", MC, cmd_policy);
  ipmi_emu_add_cmd("atcax_show", MC, cmd_show);
  ipmi_emu_add_cmd("atcax_strict", MC, cmd_strict);
  ipmi_emu_add_cmd("atcax_deactivating", MC, cmd_deactivating);
  ipmi_emu_add_cmd("atcax_stop_on", MC, cmd_stop_on);
  ipmi_emu_add_cmd("atcax_stop_clear", MC, cmd_stop_clear);
  ipmi_emu_add_cmd("atcax_unsupported", MC, cmd_unsupported);
  return 0;
}

int ipmi_sim_module_post_init(sys_data_t *sys) {
  (void)sys;
  /* After the .emu file ran atca_enable: take the PICMG group extension over. */
  ipmi_emu_register_group_extension_handler(PICMG_ID, picmg_handler, NULL);
  log_line("atca_shelf_ext ready");
  return 0;
}
