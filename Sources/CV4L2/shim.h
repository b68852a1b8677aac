#ifndef WEIGHPOINT_CV4L2_SHIM_H
#define WEIGHPOINT_CV4L2_SHIM_H
#include <fcntl.h>
#include <sys/mman.h>
#include <linux/videodev2.h>
#include <libv4l2.h>

// Swift imports neither function-like macros (VIDIOC_*, V4L2_PIX_FMT_* built with v4l2_fourcc)
// nor variadic C functions (v4l2_open, v4l2_ioctl): constants and wrappers for those here.
static const unsigned long WP_VIDIOC_QUERYCAP = VIDIOC_QUERYCAP;
static const unsigned long WP_VIDIOC_ENUM_FMT = VIDIOC_ENUM_FMT;
static const unsigned long WP_VIDIOC_S_FMT = VIDIOC_S_FMT;
static const unsigned long WP_VIDIOC_G_FMT = VIDIOC_G_FMT;
static const unsigned long WP_VIDIOC_REQBUFS = VIDIOC_REQBUFS;
static const unsigned long WP_VIDIOC_QUERYBUF = VIDIOC_QUERYBUF;
static const unsigned long WP_VIDIOC_QBUF = VIDIOC_QBUF;
static const unsigned long WP_VIDIOC_DQBUF = VIDIOC_DQBUF;
static const unsigned long WP_VIDIOC_STREAMON = VIDIOC_STREAMON;
static const unsigned long WP_VIDIOC_STREAMOFF = VIDIOC_STREAMOFF;
static const unsigned long WP_VIDIOC_S_PARM = VIDIOC_S_PARM;
static const unsigned long WP_VIDIOC_G_PARM = VIDIOC_G_PARM;
static const unsigned int WP_PIX_FMT_MJPEG = V4L2_PIX_FMT_MJPEG;
static const unsigned int WP_PIX_FMT_JPEG = V4L2_PIX_FMT_JPEG;
static const unsigned int WP_PIX_FMT_YUYV = V4L2_PIX_FMT_YUYV;
static const unsigned int WP_PIX_FMT_RGB24 = V4L2_PIX_FMT_RGB24;

static inline int cv4l2_open(const char *path, int flags) { return v4l2_open(path, flags); }
static inline int cv4l2_ioctl(int fd, unsigned long request, void *arg) { return v4l2_ioctl(fd, request, arg); }
#endif
