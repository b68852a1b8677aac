#ifndef WEIGHPOINT_PLATE_RECOGNIZER_H
#define WEIGHPOINT_PLATE_RECOGNIZER_H
// Plate detection and reading with OpenCV's dnn module and the HyperLPR v1 networks: a C API
// over the C++ so Swift can call it. The recogniser returns, for every plate it detects in a
// frame region, the detector's box and score, the plate colour from its pixels, and the reading
// network's per-timestep character probabilities (CTC, not decoded: the decoding under GA 36
// grammar and the voting across frames are done by the caller, WeighpointCore).
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Timesteps and classes of the reading network's output: 83 characters and the CTC blank.
enum { WP_LPR_TIMESTEPS = 18, WP_LPR_CLASSES = 84, WP_LPR_BLANK = 83 };

/// Plate colours as judged from the plate's pixels.
enum { WP_LPR_UNKNOWN = 0, WP_LPR_BLUE = 1, WP_LPR_YELLOW = 2, WP_LPR_GREEN = 3, WP_LPR_YELLOW_GREEN = 4, WP_LPR_WHITE = 5, WP_LPR_BLACK = 6 };

typedef struct wp_lpr wp_lpr;

typedef struct {
    /// Detector score, 0-1; 0 for a box found by the edge search.
    float score;
    /// Box in frame pixels: x, y, width, height.
    int box[4];
    int color;
    /// Share of the plate's background pixels that had the winning colour, 0-1.
    float color_share;
    /// 1: read as a single-row plate; 2: read as a two-row plate (440 x 220 mm, province and
    /// letter on top), its rows laid side by side as one row for the reading network.
    int rows;
    /// P(class | timestep), row-major [timestep][class].
    float ctc[WP_LPR_TIMESTEPS * WP_LPR_CLASSES];
} wp_lpr_plate;

/// Loads the three networks from `models_dir` (mininet_ssd_v1, refinenet,
/// SegmenationFree-Inception, .prototxt and .caffemodel each). NULL on failure, with the reason
/// in `error`.
wp_lpr *wp_lpr_open(const char *models_dir, char *error, size_t error_len);
void wp_lpr_close(wp_lpr *r);

/// Detects and reads plates in `roi` (x, y, width, height; NULL: the whole frame) of a frame of
/// packed RGB pixels, `stride` bytes per row.
/// The detector runs once per entry of `detect_sides`, on the region scaled down so that its
/// longer side is at most that many pixels (its scores change with scale); every box is then cut
/// from the full-resolution region and read, so one plate may come back once per scale, from
/// slightly different crops, for the caller to group and vote.
/// With `edge_search` set and no detector box at `min_score`, plate-shaped regions dense in
/// vertical edges (characters) are read instead, at most `edge_search` of them: plates the
/// detector does not see (it was trained on blue and yellow plates).
/// A green plate (new-energy, 480 mm wide against the 440 mm the corner network knows) is
/// rectified with a margin so its first and last characters are not cut. A yellow box shaped
/// like a two-row plate is read once more as one, and comes back twice: rows 1 and rows 2, for
/// the caller to keep the better reading.
/// Returns the number of readings written to `out` (at most `max_out`, best score first), or -1
/// with `error` set. Serialised internally: one call at a time per recogniser.
int wp_lpr_read(wp_lpr *r, const uint8_t *rgb, int width, int height, int stride, const int *roi,
                const int *detect_sides, int n_sides, float min_score, int edge_search, wp_lpr_plate *out, int max_out,
                char *error, size_t error_len);

/// The character of class `c` as UTF-8 (the reading network's table); "" for the blank.
const char *wp_lpr_class_text(int c);

/// The OpenCV version linked.
const char *wp_lpr_opencv_version(void);

#ifdef __cplusplus
}
#endif
#endif
