#ifndef WEIGHPOINT_CSERIALPORT_SHIM_H
#define WEIGHPOINT_CSERIALPORT_SHIM_H
#include <libserialport.h>
#endif
