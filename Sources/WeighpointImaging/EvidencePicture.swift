import CFreeType
import Glibc
import CTurboJPEG

/// Packed RGB pixels to draw on.
public struct RGBCanvas: Sendable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        self.fill(x: 0, y: 0, w: width, h: height, fill)
    }

    /// Fills a rectangle: one row is painted, then copied to the others.
    public mutating func fill(x: Int, y: Int, w: Int, h: Int, _ c: (UInt8, UInt8, UInt8)) {
        let x0 = max(x, 0), x1 = min(x + w, width), y0 = max(y, 0), y1 = min(y + h, height)
        guard x0 < x1, y0 < y1 else { return }
        let width = self.width
        pixels.withUnsafeMutableBufferPointer { p in
            let first = (y0 * width + x0) * 3
            for col in 0..<(x1 - x0) {
                p[first + col * 3] = c.0
                p[first + col * 3 + 1] = c.1
                p[first + col * 3 + 2] = c.2
            }
            let bytes = (x1 - x0) * 3
            for row in (y0 + 1)..<y1 {
                (p.baseAddress! + (row * width + x0) * 3).update(from: p.baseAddress! + first, count: bytes)
            }
        }
    }

    /// Draws `rgb` scaled to fit inside the rectangle, centred, aspect kept (nearest sample).
    public mutating func draw(rgb: [UInt8], width sw: Int, height sh: Int, x: Int, y: Int, w: Int, h: Int) {
        guard sw > 0, sh > 0 else { return }
        let scale = min(Double(w) / Double(sw), Double(h) / Double(sh))
        let dw = max(1, Int(Double(sw) * scale)), dh = max(1, Int(Double(sh) * scale))
        let ox = x + (w - dw) / 2, oy = y + (h - dh) / 2
        for row in 0..<dh {
            let sy = min(sh - 1, Int(Double(row) / scale))
            let ty = oy + row
            guard ty >= 0 && ty < height else { continue }
            for col in 0..<dw {
                let sx = min(sw - 1, Int(Double(col) / scale))
                let tx = ox + col
                guard tx >= 0 && tx < width else { continue }
                let s = (sy * sw + sx) * 3, t = (ty * width + tx) * 3
                pixels[t] = rgb[s]
                pixels[t + 1] = rgb[s + 1]
                pixels[t + 2] = rgb[s + 2]
            }
        }
    }
}

/// Decodes a JPEG to packed RGB (TurboJPEG). With `fitting`, decodes at the smallest of
/// libjpeg-turbo's scaling factors (1/8 … 1) that still covers that size: a 1080p frame for a
/// 640-pixel tile costs a quarter of a full decode.
public func decodeJPEG(_ jpeg: [UInt8], fitting: (width: Int, height: Int)? = nil) throws(ImagingError) -> (rgb: [UInt8], width: Int, height: Int) {
    guard let d = tjInitDecompress() else { throw ImagingError(what: "jpeg", operation: "tjInitDecompress", reason: "failed") }
    defer { tjDestroy(d) }
    var w: Int32 = 0, h: Int32 = 0, sub: Int32 = 0, cs: Int32 = 0
    guard jpeg.withUnsafeBufferPointer({ tjDecompressHeader3(d, $0.baseAddress, UInt($0.count), &w, &h, &sub, &cs) }) == 0, w > 0, h > 0 else {
        throw ImagingError(what: "jpeg", operation: "tjDecompressHeader3", reason: String(cString: tjGetErrorStr2(d)))
    }
    if let fit = fitting {
        // Scaling factors are n/8; take the smallest whose result still covers the target.
        for n in 1...8 {
            let sw = (Int(w) * n + 7) / 8, sh = (Int(h) * n + 7) / 8
            if sw >= fit.width || sh >= fit.height || n == 8 {
                (w, h) = (Int32(sw), Int32(sh))
                break
            }
        }
    }
    var rgb = [UInt8](repeating: 0, count: Int(w) * Int(h) * 3)
    let rc = jpeg.withUnsafeBufferPointer { src in
        rgb.withUnsafeMutableBufferPointer { dst in
            tjDecompress2(d, src.baseAddress, UInt(src.count), dst.baseAddress, w, 0, h, Int32(TJPF_RGB.rawValue), 0)
        }
    }
    guard rc == 0 else { throw ImagingError(what: "jpeg", operation: "tjDecompress2", reason: String(cString: tjGetErrorStr2(d))) }
    return (rgb, Int(w), Int(h))
}

/// Text through FreeType with one font face (a CJK font covers Chinese and Latin). One owner.
public final class TextRenderer: @unchecked Sendable {
    /// Fonts tried in order when none is configured (Debian packages fonts-wqy-microhei,
    /// fonts-noto-cjk, fonts-wqy-zenhei).
    public static let defaultFontPaths = [
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    ]

    public let fontPath: String
    private var library: FT_Library?
    private var face: FT_Face?
    private var size = 0
    private struct Glyph {
        var left: Int, top: Int, width: Int, rows: Int, advance: Int
        var alpha: [UInt8]
    }
    /// Rendered glyphs by size and character: the band repeats the same few hundred.
    private var glyphs: [UInt64: Glyph] = [:]

    public init(fontPath: String? = nil) throws(ImagingError) {
        guard let path = fontPath ?? Self.defaultFontPaths.first(where: { access($0, R_OK) == 0 }) else {
            throw ImagingError(what: "font", operation: "find", reason: "no CJK font in \(Self.defaultFontPaths.joined(separator: ", ")) (Debian: fonts-wqy-microhei)")
        }
        self.fontPath = path
        guard FT_Init_FreeType(&library) == 0 else { throw ImagingError(what: path, operation: "FT_Init_FreeType", reason: "failed") }
        let rc = FT_New_Face(library, path, 0, &face)
        guard rc == 0, face != nil else {
            // deinit runs for this initialised object and frees the library.
            face = nil
            throw ImagingError(what: path, operation: "FT_New_Face", reason: "FreeType error \(rc)")
        }
    }

    deinit {
        if let face { FT_Done_Face(face) }
        if let library { FT_Done_FreeType(library) }
    }

    /// Characters the font has no glyph for.
    public func missingGlyphs(in text: String) -> [Unicode.Scalar] {
        text.unicodeScalars.filter { $0.value > 32 && FT_Get_Char_Index(face, FT_ULong($0.value)) == 0 }
    }

    /// Draws `text` with its baseline at `baseline`, starting at `x`; returns the end x.
    @discardableResult
    public func draw(_ text: String, pixelSize: Int, into canvas: inout RGBCanvas, x: Int, baseline: Int, color: (UInt8, UInt8, UInt8)) -> Int {
        guard let face else { return x }
        if size != pixelSize {
            FT_Set_Pixel_Sizes(face, 0, FT_UInt(pixelSize))
            size = pixelSize
        }
        var pen = x
        for scalar in text.unicodeScalars {
            let key = UInt64(pixelSize) << 32 | UInt64(scalar.value)
            if glyphs[key] == nil {
                guard FT_Load_Char(face, FT_ULong(scalar.value), FT_Int32(WP_FT_LOAD_RENDER)) == 0, let slot = face.pointee.glyph else { continue }
                let g = slot.pointee
                let bm = g.bitmap
                var alpha = [UInt8](repeating: 0, count: Int(bm.rows) * Int(bm.width))
                if let buffer = bm.buffer {
                    for r in 0..<Int(bm.rows) {
                        for c in 0..<Int(bm.width) { alpha[r * Int(bm.width) + c] = buffer[r * Int(bm.pitch) + c] }
                    }
                }
                glyphs[key] = Glyph(left: Int(g.bitmap_left), top: Int(g.bitmap_top), width: Int(bm.width), rows: Int(bm.rows), advance: Int(g.advance.x >> 6), alpha: alpha)
            }
            let g = glyphs[key]!
            for r in 0..<g.rows {
                let ty = baseline - g.top + r
                guard ty >= 0 && ty < canvas.height else { continue }
                for c in 0..<g.width {
                    let tx = pen + g.left + c
                    guard tx >= 0 && tx < canvas.width else { continue }
                    let a = Int(g.alpha[r * g.width + c])
                    guard a > 0 else { continue }
                    let i = (ty * canvas.width + tx) * 3
                    canvas.pixels[i] = UInt8((Int(color.0) * a + Int(canvas.pixels[i]) * (255 - a)) / 255)
                    canvas.pixels[i + 1] = UInt8((Int(color.1) * a + Int(canvas.pixels[i + 1]) * (255 - a)) / 255)
                    canvas.pixels[i + 2] = UInt8((Int(color.2) * a + Int(canvas.pixels[i + 2]) * (255 - a)) / 255)
                }
            }
            pen += g.advance
        }
        return pen
    }
}

/// The evidence picture a person looks at: the camera frames in a grid, each labelled, and an
/// information band below with the facts of the weighing in Chinese and Latin text.
public enum EvidencePicture {
    public struct Tile: Sendable {
        public var label: String
        public var jpeg: [UInt8]?
        public init(label: String, jpeg: [UInt8]?) {
            self.label = label
            self.jpeg = jpeg
        }
    }

    /// Composes up to four tiles (two columns, 4:3 cells `tileWidth` wide) over the band of
    /// `lines`, and encodes the result as JPEG. A tile without a picture says so.
    public static func compose(tiles: [Tile], lines: [String], renderer: TextRenderer, encoder: JPEGEncoder, tileWidth: Int = 640) throws(ImagingError) -> [UInt8] {
        let shown = Array(tiles.prefix(4))
        let cols = shown.count > 1 ? 2 : 1
        let rows = max(1, (shown.count + cols - 1) / cols)
        let tileHeight = tileWidth * 3 / 4
        let text = 22, lineHeight = 32
        let band = lines.count * lineHeight + 20
        var canvas = RGBCanvas(width: cols * tileWidth, height: rows * tileHeight + band, fill: (24, 24, 24))
        for (i, t) in shown.enumerated() {
            let x = (i % cols) * tileWidth, y = (i / cols) * tileHeight
            if let jpeg = t.jpeg, let img = try? decodeJPEG(jpeg, fitting: (tileWidth - 4, tileHeight - 4)) {
                canvas.draw(rgb: img.rgb, width: img.width, height: img.height, x: x + 2, y: y + 2, w: tileWidth - 4, h: tileHeight - 4)
            } else {
                canvas.fill(x: x + 2, y: y + 2, w: tileWidth - 4, h: tileHeight - 4, (60, 60, 60))
                renderer.draw("无图像 no picture", pixelSize: 28, into: &canvas, x: x + tileWidth / 2 - 110, baseline: y + tileHeight / 2, color: (200, 200, 200))
            }
            canvas.fill(x: x + 2, y: y + 2, w: min(tileWidth - 4, 16 + t.label.count * 20), h: 34, (0, 0, 0))
            renderer.draw(t.label, pixelSize: 20, into: &canvas, x: x + 10, baseline: y + 28, color: (255, 230, 0))
        }
        let top = rows * tileHeight
        canvas.fill(x: 0, y: top, w: canvas.width, h: band, (0, 0, 0))
        for (n, line) in lines.enumerated() {
            renderer.draw(line, pixelSize: text, into: &canvas, x: 14, baseline: top + 12 + (n + 1) * lineHeight - 8, color: (255, 255, 255))
        }
        return try encoder.encode(rgb: canvas.pixels, width: canvas.width, height: canvas.height)
    }
}
