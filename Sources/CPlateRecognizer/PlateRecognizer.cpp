// Plate detection and reading with OpenCV dnn and the HyperLPR v1 networks (see the header).
// The steps follow the published pipeline (detect with the SSD, crop loosely, refine the four
// corners twice, rectify to 136x36, read with the segmentation-free network), with what it
// lacks: every detection is read, not only the first; the detector runs on a region of interest
// scaled down to a bounded size while plates are cut from the full-resolution frame; the colour
// is judged from the plate's pixels. Only core, imgproc and dnn are used.
#include "PlateRecognizer.h"

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

struct wp_lpr {
    cv::dnn::Net detector, refiner, reader;
    std::mutex lock;
};

namespace {

void set_error(char *error, size_t len, const std::string &what) {
    if (error && len > 0) {
        std::strncpy(error, what.c_str(), len - 1);
        error[len - 1] = 0;
    }
}

// The reading network's 83 characters, in its class order (class 83 is the CTC blank).
const char *const kClasses[WP_LPR_CLASSES] = {
    "京", "沪", "津", "渝", "冀", "晋", "蒙", "辽", "吉", "黑", "苏", "浙", "皖", "闽", "赣", "鲁", "豫", "鄂", "湘", "粤", "桂",
    "琼", "川", "贵", "云", "藏", "陕", "甘", "青", "宁", "新", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "A",
    "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "Q", "R", "S", "T", "U", "V", "W", "X",
    "Y", "Z", "港", "学", "使", "警", "澳", "挂", "军", "北", "南", "广", "沈", "兰", "成", "济", "海", "民", "航", "空", "",
};

// A crop around `box` (x1, y1, x2, y2) keeping `aspect` and padded by `padding`, as the
// refinement network expects its input.
cv::Mat loose_crop(const cv::Mat &image, cv::Rect box, double aspect, double padding = 1.7) {
    int cx = box.x + box.width / 2, cy = box.y + box.height / 2;
    int w, h;
    if (double(box.width) / std::max(box.height, 1) > aspect) {
        w = int(box.width * padding);
        h = int(w / aspect);
    } else {
        h = int(box.height * padding);
        w = int(h * aspect);
    }
    cv::Rect r(cx - w / 2, cy - h / 2, w, h);
    r &= cv::Rect(0, 0, image.cols, image.rows);
    return image(r).clone();
}

// The refinement network: four corners of the plate in `image`, in its pixels.
std::vector<cv::Point2f> corners(cv::dnn::Net &refiner, const cv::Mat &image) {
    cv::Mat small;
    cv::resize(image, small, cv::Size(120, 48));
    cv::Mat blob = cv::dnn::blobFromImage(small, 0.0078125, cv::Size(120, 48), cv::Scalar(127.5, 127.5, 127.5), false, false);
    refiner.setInput(blob);
    cv::Mat out = refiner.forward("conv6-3");
    const float *p = out.ptr<float>();
    std::vector<cv::Point2f> pts(4);
    for (int i = 0; i < 4; i++) pts[i] = cv::Point2f(p[2 * i] * image.cols, p[2 * i + 1] * image.rows);
    return pts;
}

// The rotation, uniform scale and translation taking `src` closest to `dst` (least squares), as a
// 2x3 matrix: what the published pipeline gets from calib3d's estimateAffinePartial2D, without
// linking calib3d for it.
cv::Mat similarity(const std::vector<cv::Point2f> &src, const std::vector<cv::Point2f> &dst) {
    cv::Point2f ps(0, 0), pd(0, 0);
    for (size_t i = 0; i < src.size(); i++) { ps += src[i]; pd += dst[i]; }
    ps *= 1.0f / src.size();
    pd *= 1.0f / dst.size();
    double num_a = 0, num_b = 0, den = 0;
    for (size_t i = 0; i < src.size(); i++) {
        cv::Point2f p = src[i] - ps, q = dst[i] - pd;
        num_a += p.x * q.x + p.y * q.y;
        num_b += p.x * q.y - p.y * q.x;
        den += p.x * p.x + p.y * p.y;
    }
    if (den < 1e-6) return cv::Mat();
    double a = num_a / den, b = num_b / den;
    double tx = pd.x - (a * ps.x - b * ps.y), ty = pd.y - (b * ps.x + a * ps.y);
    return (cv::Mat_<double>(2, 3) << a, -b, tx, b, a, ty);
}

// Two passes of refinement, then the plate rectified to 136x36.
cv::Mat rectify(cv::dnn::Net &refiner, const cv::Mat &crop) {
    std::vector<cv::Point2f> pts = corners(refiner, crop);
    const float scale = 3.0f, cx = 64, cy = 24, cw = 64, ch = 24;
    std::vector<cv::Point2f> target = {
        {(cx - cw / 2) * scale, (cy - ch / 2) * scale}, {(cx + cw / 2) * scale, (cy - ch / 2) * scale},
        {(cx + cw / 2) * scale, (cy + ch / 2) * scale}, {(cx - cw / 2) * scale, (cy + ch / 2) * scale}};
    cv::Mat m = similarity(pts, target);
    if (m.empty()) m = (cv::Mat_<double>(2, 3) << 1, 0, 0, 0, 1, 0);
    cv::Mat g;
    cv::warpAffine(crop, g, m, cv::Size(int(120 * scale), int(48 * scale)));
    std::vector<cv::Point2f> p2 = corners(refiner, g);
    std::vector<cv::Point2f> plate = {{0, 0}, {136, 0}, {136, 36}, {0, 36}};
    cv::Mat h = cv::getPerspectiveTransform(p2, plate);
    cv::Mat out;
    cv::warpPerspective(g, out, h, cv::Size(136, 36));
    return out;
}

// P(class | timestep) from the reading network for a rectified 136x36 plate.
void read_plate(cv::dnn::Net &reader, const cv::Mat &plate, float *ctc) {
    cv::Mat resized, turned;
    cv::resize(plate, resized, cv::Size(160, 40));
    cv::transpose(resized, turned);  // the network reads along the height of its input
    cv::Mat blob = cv::dnn::blobFromImage(turned, 1.0 / 255.0, cv::Size(40, 160), cv::Scalar(0, 0, 0), false, false);
    reader.setInput(blob);
    cv::Mat out = reader.forward();  // 1 x 84 x 20 x 1
    const int steps = out.size[2];
    const float *p = out.ptr<float>();
    for (int t = 0; t < WP_LPR_TIMESTEPS; t++)
        for (int c = 0; c < WP_LPR_CLASSES; c++) ctc[t * WP_LPR_CLASSES + c] = p[c * steps + (t + 2)];  // the first two steps see the border
}

// The plate colour from the rectified plate: the hue of its saturated pixels, or white/black
// from brightness when few are saturated; yellow on the left and green on the right is the
// yellow-green large new-energy plate.
int plate_color(const cv::Mat &plate, float *share) {
    cv::Mat hsv;
    cv::cvtColor(plate, hsv, cv::COLOR_BGR2HSV);
    int blue = 0, yellow = 0, green = 0, white = 0, black = 0, n = 0, yellowLeft = 0, greenRight = 0;
    for (int y = 4; y < hsv.rows - 4; y++) {
        for (int x = 4; x < hsv.cols - 4; x++) {
            cv::Vec3b v = hsv.at<cv::Vec3b>(y, x);
            int h = v[0], s = v[1], val = v[2];
            n++;
            if (s > 70 && val > 60) {
                if (h >= 95 && h <= 130) blue++;
                else if (h >= 12 && h <= 34) { yellow++; if (x < hsv.cols / 3) yellowLeft++; }
                else if (h > 34 && h <= 90) { green++; if (x > hsv.cols / 3) greenRight++; }
            } else if (s < 50 && val > 150) white++;
            else if (val < 70) black++;
        }
    }
    if (n == 0) { *share = 0; return WP_LPR_UNKNOWN; }
    int best = std::max({blue, yellow, green});
    if (yellowLeft > n / 12 && greenRight > n / 6) { *share = float(yellow + green) / n; return WP_LPR_YELLOW_GREEN; }
    if (best > n / 4) {
        *share = float(best) / n;
        return best == blue ? WP_LPR_BLUE : best == yellow ? WP_LPR_YELLOW : WP_LPR_GREEN;
    }
    // Characters are dark on white plates and light on black ones: the background dominates.
    if (white > black) { *share = float(white) / n; return WP_LPR_WHITE; }
    *share = float(black) / n;
    return black > n / 3 ? WP_LPR_BLACK : WP_LPR_UNKNOWN;
}

}  // namespace

extern "C" wp_lpr *wp_lpr_open(const char *models_dir, char *error, size_t error_len) {
    std::string dir(models_dir);
    try {
        auto *r = new wp_lpr();
        r->detector = cv::dnn::readNetFromCaffe(dir + "/mininet_ssd_v1.prototxt", dir + "/mininet_ssd_v1.caffemodel");
        r->refiner = cv::dnn::readNetFromCaffe(dir + "/refinenet.prototxt", dir + "/refinenet.caffemodel");
        r->reader = cv::dnn::readNetFromCaffe(dir + "/SegmenationFree-Inception.prototxt", dir + "/SegmenationFree-Inception.caffemodel");
        if (r->detector.empty() || r->refiner.empty() || r->reader.empty()) {
            delete r;
            set_error(error, error_len, dir + ": a network did not load");
            return nullptr;
        }
        return r;
    } catch (const std::exception &e) {
        set_error(error, error_len, dir + ": " + e.what());
        return nullptr;
    }
}

extern "C" void wp_lpr_close(wp_lpr *r) { delete r; }

extern "C" int wp_lpr_read(wp_lpr *r, const uint8_t *rgb, int width, int height, int stride, const int *roi,
                           const int *detect_sides, int n_sides, float min_score, wp_lpr_plate *out, int max_out, char *error, size_t error_len) {
    std::lock_guard<std::mutex> guard(r->lock);
    try {
        cv::Rect area(0, 0, width, height);
        if (roi) area &= cv::Rect(roi[0], roi[1], roi[2], roi[3]);
        if (area.width < 32 || area.height < 16) {
            set_error(error, error_len, "region of interest outside the frame or too small");
            return -1;
        }
        // Only the region is converted to the networks' BGR.
        cv::Mat region;
        cv::cvtColor(cv::Mat(height, width, CV_8UC3, const_cast<uint8_t *>(rgb), stride)(area), region, cv::COLOR_RGB2BGR);
        std::vector<std::pair<float, cv::Rect>> found;
        for (int k = 0; k < n_sides; k++) {
            // The detector sees the region at a bounded size: its cost grows with the pixels.
            double scale = std::min(1.0, double(std::max(detect_sides[k], 64)) / std::max(region.cols, region.rows));
            cv::Mat small;
            if (scale < 1.0) cv::resize(region, small, cv::Size(), scale, scale, cv::INTER_AREA); else small = region;
            cv::Mat f;
            small.convertTo(f, CV_32FC3, 1.0 / 255.0);
            cv::subtract(f, cv::Scalar(0.406, 0.456, 0.485), f);
            cv::divide(f, cv::Scalar(0.225, 0.224, 0.229), f);
            r->detector.setInput(cv::dnn::blobFromImage(f, 1.0, cv::Size(), cv::Scalar(), true, false));
            cv::Mat det = r->detector.forward();  // 1 x 1 x N x 7: image, label, score, x1, y1, x2, y2
            cv::Mat rows(det.size[2], det.size[3], CV_32F, det.ptr<float>());
            for (int i = 0; i < rows.rows; i++) {
                float score = rows.at<float>(i, 2);
                if (score < min_score) continue;
                int x1 = int(rows.at<float>(i, 3) * region.cols), y1 = int(rows.at<float>(i, 4) * region.rows);
                int x2 = int(rows.at<float>(i, 5) * region.cols), y2 = int(rows.at<float>(i, 6) * region.rows);
                cv::Rect b = cv::Rect(cv::Point(x1, y1), cv::Point(x2, y2)) & cv::Rect(0, 0, region.cols, region.rows);
                if (b.width >= 8 && b.height >= 4) found.push_back({score, b});
            }
        }
        std::stable_sort(found.begin(), found.end(), [](auto &a, auto &b) { return a.first > b.first; });
        int n = 0;
        for (auto &[score, b] : found) {
            if (n >= max_out) break;
            cv::Mat crop = loose_crop(region, b, 120.0 / 48.0);
            if (crop.cols < 16 || crop.rows < 8) continue;
            cv::Mat plate = rectify(r->refiner, crop);
            wp_lpr_plate &p = out[n++];
            p.score = score;
            p.box[0] = area.x + b.x;
            p.box[1] = area.y + b.y;
            p.box[2] = b.width;
            p.box[3] = b.height;
            p.color = plate_color(plate, &p.color_share);
            read_plate(r->reader, plate, p.ctc);
        }
        return n;
    } catch (const std::exception &e) {
        set_error(error, error_len, e.what());
        return -1;
    }
}

extern "C" const char *wp_lpr_class_text(int c) { return c >= 0 && c < WP_LPR_CLASSES ? kClasses[c] : ""; }

extern "C" const char *wp_lpr_opencv_version(void) { return CV_VERSION; }
