#ifndef WEIGHPOINT_CV4L2_SHIM_H
#define WEIGHPOINT_CV4L2_SHIM_H
#include <fcntl.h>
#include <linux/videodev2.h>
#include <libv4l2.h>

// v4l2_open is variadic (like open(2)); Swift cannot call variadic C functions.
static inline int cv4l2_open(const char *path, int flags) { return v4l2_open(path, flags); }
#endif
