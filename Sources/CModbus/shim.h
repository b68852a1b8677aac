#ifndef WEIGHPOINT_CMODBUS_SHIM_H
#define WEIGHPOINT_CMODBUS_SHIM_H
#include <modbus/modbus.h>
#endif
