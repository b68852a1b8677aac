#ifndef WEIGHPOINT_CLINUX_H
#define WEIGHPOINT_CLINUX_H
// Linux calls Swift's Glibc module does not bring in.
#include <sys/timex.h>

// adjtimex in read-only mode: the clock's synchronisation state and error bounds.
// Returns 1 when the kernel considers the clock synchronised.
static inline int wp_clock_state(long *maxerror_us, long *esterror_us) {
    struct timex tx = {0};
    int state = adjtimex(&tx);
    *maxerror_us = tx.maxerror;
    *esterror_us = tx.esterror;
    return state != TIME_ERROR && !(tx.status & STA_UNSYNC);
}
#endif
