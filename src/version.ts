/** atcad's and fence_atca's version: package.json's (a unit test keeps the two in step). */
export const VERSION = '0.1.0';
