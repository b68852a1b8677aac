#ifndef WEIGHPOINT_CFREETYPE_SHIM_H
#define WEIGHPOINT_CFREETYPE_SHIM_H
#include <ft2build.h>
#include FT_FREETYPE_H
// FT_LOAD_RENDER is a cast expression Swift does not import.
static const int WP_FT_LOAD_RENDER = FT_LOAD_RENDER;
#endif
