// Plate detection and reading with OpenCV dnn and the HyperLPR v1 networks (see the header).
// The steps follow the published pipeline (detect with the SSD, crop loosely, refine the four
// corners twice, rectify to 136x36, read with the segmentation-free network), with what it
// lacks: every detection is read, not only the first; the detector runs on a region of interest
// scaled down to a bounded size while plates are cut from the full-resolution frame; the colour
// is judged from the plate's pixels; green new-energy plates are rectified with a margin; a
// two-row plate is re-laid as one row; where the detector finds nothing, regions dense in
// vertical edges are read. Only core, imgproc and dnn are used.
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

// Two passes of refinement: the crop turned and scaled so the plate lies level in the middle
// (`level`), and the plate's four corners in it (`corners`).
struct Refined {
    cv::Mat level;
    std::vector<cv::Point2f> corners;
};

Refined refine(cv::dnn::Net &refiner, const cv::Mat &crop) {
    std::vector<cv::Point2f> pts = corners(refiner, crop);
    const float scale = 3.0f, cx = 64, cy = 24, cw = 64, ch = 24;
    std::vector<cv::Point2f> target = {
        {(cx - cw / 2) * scale, (cy - ch / 2) * scale}, {(cx + cw / 2) * scale, (cy - ch / 2) * scale},
        {(cx + cw / 2) * scale, (cy + ch / 2) * scale}, {(cx - cw / 2) * scale, (cy + ch / 2) * scale}};
    cv::Mat m = similarity(pts, target);
    if (m.empty()) m = (cv::Mat_<double>(2, 3) << 1, 0, 0, 0, 1, 0);
    Refined r;
    cv::warpAffine(crop, r.level, m, cv::Size(int(120 * scale), int(48 * scale)));
    r.corners = corners(refiner, r.level);
    return r;
}

// The plate rectified to 136x36, the corners mapped `left` and `right` (shares of the width) in
// from the edges: a margin for plates wider than the corner network's 440 mm.
cv::Mat rectify(const Refined &r, float left = 0, float right = 0) {
    const float w = 136, h = 36;
    std::vector<cv::Point2f> plate = {{w * left, 0}, {w * (1 - right), 0}, {w * (1 - right), h}, {w * left, h}};
    cv::Mat out;
    cv::warpPerspective(r.level, out, cv::getPerspectiveTransform(r.corners, plate), cv::Size(136, 36));
    return out;
}

// The corner network was trained on 440 mm plates: on a 480 mm new-energy plate its corners
// fall inside the plate and cut the first and last characters. Margins chosen on generated
// plates (BENCHMARKS.md).
const float kNewEnergyLeft = 0.07f, kNewEnergyRight = 0.04f;

// A yellow two-row plate's corners in `image` near `box`: the extreme points of the largest
// yellow region, or the box itself when no region of about its size is found. Top left, top
// right, bottom right, bottom left.
std::vector<cv::Point2f> two_row_corners(const cv::Mat &image, cv::Rect box) {
    cv::Rect around(box.x - box.width / 4, box.y - box.height / 3, box.width * 3 / 2, box.height * 5 / 3);
    around &= cv::Rect(0, 0, image.cols, image.rows);
    cv::Mat hsv, mask;
    cv::cvtColor(image(around), hsv, cv::COLOR_BGR2HSV);
    cv::inRange(hsv, cv::Scalar(12, 70, 60), cv::Scalar(40, 255, 255), mask);
    cv::morphologyEx(mask, mask, cv::MORPH_CLOSE, cv::Mat::ones(5, 5, CV_8U));
    cv::Mat labels, stats, centroids;
    int n = cv::connectedComponentsWithStats(mask, labels, stats, centroids, 8, CV_32S);
    int best = 0;
    for (int k = 1; k < n; k++)
        if (best == 0 || stats.at<int>(k, cv::CC_STAT_AREA) > stats.at<int>(best, cv::CC_STAT_AREA)) best = k;
    std::vector<cv::Point2f> box_corners = {
        cv::Point2f(box.x, box.y), cv::Point2f(box.x + box.width, box.y), cv::Point2f(box.x + box.width, box.y + box.height),
        cv::Point2f(box.x, box.y + box.height)};
    double area = double(box.area());
    if (best == 0 || stats.at<int>(best, cv::CC_STAT_AREA) < 0.5 * area || stats.at<int>(best, cv::CC_STAT_AREA) > 1.6 * area)
        return box_corners;
    // Extremes of x + y and x - y: the corners of a quadrilateral seen at a moderate angle.
    cv::Point2f tl, tr, br, bl;
    float min_sum = 1e9f, max_sum = -1e9f, min_diff = 1e9f, max_diff = -1e9f;
    for (int y = 0; y < labels.rows; y++) {
        const int *row = labels.ptr<int>(y);
        for (int x = 0; x < labels.cols; x++) {
            if (row[x] != best) continue;
            float sum = float(x + y), diff = float(x - y);
            if (sum < min_sum) { min_sum = sum; tl = {float(x), float(y)}; }
            if (sum > max_sum) { max_sum = sum; br = {float(x), float(y)}; }
            if (diff > max_diff) { max_diff = diff; tr = {float(x), float(y)}; }
            if (diff < min_diff) { min_diff = diff; bl = {float(x), float(y)}; }
        }
    }
    cv::Point2f o(float(around.x), float(around.y));
    return {tl + o, tr + o, br + o, bl + o};
}

// A two-row plate (GA 36: 440 x 220 mm; province and letter 80 x 60 mm on top, five characters
// 65 x 110 mm below) laid out as a single-row plate for the reading network, which knows only
// those: each top character and the bottom row moved to where a 440 x 140 mm plate has its
// characters (45 x 90 mm, the first two, then five after the dot).
cv::Mat two_row_as_one(const cv::Mat &image, const std::vector<cv::Point2f> &corners) {
    const float k = 0.5f;  // pixels per millimetre of the rectified plate
    cv::Mat plate;
    std::vector<cv::Point2f> to = {{0, 0}, {440 * k, 0}, {440 * k, 220 * k}, {0, 220 * k}};
    cv::warpPerspective(image, plate, cv::getPerspectiveTransform(corners, to), cv::Size(int(440 * k), int(220 * k)));
    cv::Mat one(int(140 * k), int(440 * k), CV_8UC3);
    // The background: the plate's pixels lighter than its mean (the characters are dark).
    cv::Mat grey, light;
    cv::cvtColor(plate, grey, cv::COLOR_BGR2GRAY);
    cv::compare(grey, cv::mean(grey)[0], light, cv::CMP_GT);
    one.setTo(cv::mean(plate, light));
    auto place = [&](cv::Rect2f from, cv::Rect2f into) {
        cv::Rect src(int(from.x * k), int(from.y * k), int(from.width * k), int(from.height * k));
        cv::Rect dst(int(into.x * k), int(into.y * k), int(into.width * k), int(into.height * k));
        cv::Mat part;
        cv::resize(plate(src), part, dst.size(), 0, 0, cv::INTER_AREA);
        part.copyTo(one(dst));
    };
    // Millimetres (x, y, width, height) with a few millimetres of margin around the characters.
    place({105, 10, 90, 70}, {13, 18, 50, 104});
    place({245, 10, 90, 70}, {70, 18, 50, 104});
    place({22, 88, 343, 117}, {150, 25, 265, 90});
    cv::Mat out;
    cv::resize(one, out, cv::Size(136, 36), 0, 0, cv::INTER_AREA);
    return out;
}

// Width over height of a quadrilateral (corners as two_row_corners gives them): about 2 for a
// two-row plate, over 3 for a single-row one.
float aspect(const std::vector<cv::Point2f> &q) {
    float w = float(cv::norm(q[1] - q[0]) + cv::norm(q[2] - q[3])), h = float(cv::norm(q[3] - q[0]) + cv::norm(q[2] - q[1]));
    return h > 0 ? w / h : 0;
}

// Plate-shaped regions dense in vertical edges, as the characters of any plate make them: the
// detector's fallback, best first, at most `max` (x, y, width, height in `region`'s pixels).
std::vector<cv::Rect> edge_regions(const cv::Mat &region, int max) {
    const double side = 960;
    double scale = std::min(1.0, side / std::max(region.cols, region.rows));
    cv::Mat small, grey, edges, mask;
    if (scale < 1.0) cv::resize(region, small, cv::Size(), scale, scale, cv::INTER_AREA); else small = region;
    cv::cvtColor(small, grey, cv::COLOR_BGR2GRAY);
    cv::Mat sobel;
    cv::Sobel(grey, sobel, CV_16S, 1, 0, 3);
    cv::convertScaleAbs(sobel, edges);
    cv::threshold(edges, mask, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
    // Join the characters' strokes into one blob per plate, then drop thin lines.
    cv::morphologyEx(mask, mask, cv::MORPH_CLOSE, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(15, 5)));
    cv::morphologyEx(mask, mask, cv::MORPH_OPEN, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(9, 7)));
    cv::Mat labels, stats, centroids;
    int n = cv::connectedComponentsWithStats(mask, labels, stats, centroids, 8, CV_32S);
    std::vector<std::pair<double, cv::Rect>> found;
    for (int k = 1; k < n; k++) {
        int x = stats.at<int>(k, cv::CC_STAT_LEFT), y = stats.at<int>(k, cv::CC_STAT_TOP);
        int w = stats.at<int>(k, cv::CC_STAT_WIDTH), h = stats.at<int>(k, cv::CC_STAT_HEIGHT);
        if (w < 35 || h < 10 || w > small.cols * 0.3) continue;
        double aspect = double(w) / h, fill = double(stats.at<int>(k, cv::CC_STAT_AREA)) / (double(w) * h);
        if (aspect < 2.0 || aspect > 6.5 || fill < 0.5) continue;
        double density = cv::mean(edges(cv::Rect(x, y, w, h)))[0];
        found.push_back({density * fill, cv::Rect(int(x / scale), int(y / scale), int(w / scale), int(h / scale))});
    }
    std::stable_sort(found.begin(), found.end(), [](auto &a, auto &b) { return a.first > b.first; });
    std::vector<cv::Rect> out;
    for (size_t i = 0; i < found.size() && int(i) < max; i++) out.push_back(found[i].second & cv::Rect(0, 0, region.cols, region.rows));
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
                           const int *detect_sides, int n_sides, float min_score, int edge_search, wp_lpr_plate *out, int max_out,
                           char *error, size_t error_len) {
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
        if (found.empty() && edge_search > 0)
            for (const cv::Rect &b : edge_regions(region, edge_search)) found.push_back({0.0f, b});
        int n = 0;
        for (auto &[score, b] : found) {
            if (n >= max_out) break;
            // One box's failure (an odd crop) loses that box, not the frame's other plates.
            try {
                cv::Mat crop = loose_crop(region, b, 120.0 / 48.0);
                if (crop.cols < 16 || crop.rows < 8) continue;
                Refined refined = refine(r->refiner, crop);
                cv::Mat plate = rectify(refined);
                wp_lpr_plate p;
                p.score = score;
                p.box[0] = area.x + b.x;
                p.box[1] = area.y + b.y;
                p.box[2] = b.width;
                p.box[3] = b.height;
                p.rows = 1;
                p.color = plate_color(plate, &p.color_share);
                if (p.color == WP_LPR_GREEN || p.color == WP_LPR_YELLOW_GREEN) plate = rectify(refined, kNewEnergyLeft, kNewEnergyRight);
                read_plate(r->reader, plate, p.ctc);
                out[n++] = p;
                // A yellow box about twice as wide as high (a single-row plate is over three
                // times): maybe a two-row plate. If the yellow region around it is shaped like one
                // too, it is read once more as one.
                if (p.color == WP_LPR_YELLOW && b.width < 2.45 * b.height && n < max_out) {
                    std::vector<cv::Point2f> quad = two_row_corners(region, b);
                    if (aspect(quad) < 2.6f) {
                        p.rows = 2;
                        read_plate(r->reader, two_row_as_one(region, quad), p.ctc);
                        out[n++] = p;
                    }
                }
            } catch (const cv::Exception &) {
                continue;
            }
        }
        return n;
    } catch (const std::exception &e) {
        set_error(error, error_len, e.what());
        return -1;
    }
}

extern "C" const char *wp_lpr_class_text(int c) { return c >= 0 && c < WP_LPR_CLASSES ? kClasses[c] : ""; }

extern "C" const char *wp_lpr_opencv_version(void) { return CV_VERSION; }
