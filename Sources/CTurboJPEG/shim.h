#ifndef WEIGHPOINT_CTURBOJPEG_SHIM_H
#define WEIGHPOINT_CTURBOJPEG_SHIM_H
#include <turbojpeg.h>
#endif
