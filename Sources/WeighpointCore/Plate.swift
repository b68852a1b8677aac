/// A licence plate in GA 36 grammar, held in normalised form.
public struct Plate: Hashable, Sendable, CustomStringConvertible {
    /// The normalised text, e.g. "苏A12345".
    public let text: String
    /// Which GA 36 layout the text follows.
    public let kind: Kind

    /// GA 36 plate layouts the unit recognises. Emergency (应急) plates are not listed: their
    /// layout is not published in a form we could verify.
    public enum Kind: String, Sendable, CaseIterable {
        /// Province, authority letter, 5 serial characters: blue small or yellow large plates.
        case standard
        /// Yellow trailer plate ending 挂.
        case trailer
        /// Yellow coach (driving school) plate ending 学.
        case coach
        /// White police plate ending 警; the authority letter may be O (e.g. 粤O…警).
        case police
        /// Black consulate plate ending 领.
        case consulate
        /// Black embassy plate: 使 followed by six digits.
        case embassy
        /// Black Hong Kong / Macau cross-border plate: 粤Z, four serial characters, 港 or 澳.
        case hongKongMacau
        /// Gradient-green new-energy small plate: 8 characters, first serial character D or F.
        case newEnergySmall
        /// Yellow-green new-energy large plate: 8 characters, sixth serial character D or F.
        case newEnergyLarge

        /// The layouts GA 36 issues in `color` (all of them when the colour is not known).
        public static func issued(in color: PlateColor) -> Set<Kind> {
            let k = Set(allCases.filter { $0.colors.contains(color) })
            return k.isEmpty ? Set(allCases) : k
        }

        /// The colours GA 36 issues this layout in.
        public var colors: [PlateColor] {
            switch self {
            case .standard: [.blue, .yellow]
            case .trailer, .coach: [.yellow]
            case .police: [.white]
            case .consulate, .embassy, .hongKongMacau: [.black]
            case .newEnergySmall: [.green]
            case .newEnergyLarge: [.yellowGreen]
            }
        }
    }

    /// Parses `raw` (as read or typed), normalising it first; throws `PlateError` naming what
    /// is wrong and where.
    public init(parsing raw: String) throws(PlateError) {
        let text = Plate.normalize(raw)
        self.kind = try Plate.classify(Array(text.unicodeScalars), raw: raw)
        self.text = text
    }

    public var description: String { text }

    /// True for trailer plates (ending 挂).
    public var isTrailer: Bool { kind == .trailer }

    // MARK: Normalisation (Docs/decision-core.md)

    /// Normalises plate text: full-width letters and digits to ASCII, lower to upper case,
    /// separators removed, and in serial positions O → 0 and I → 1 (GA 36 serials carry neither).
    /// Idempotent. Works on any text, valid plate or not, so OCR reads can be compared.
    public static func normalize(_ raw: String) -> String {
        if isNormalized(raw) { return raw }  // most list entries and reads: no copy
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(raw.unicodeScalars.count)
        for s in raw.unicodeScalars {
            var v = s.value
            if v >= 0xFF01 && v <= 0xFF5E { v -= 0xFEE0 }  // full-width ASCII block
            if v == 0x3000 { v = 0x20 }  // ideographic space
            if v >= 0x61 && v <= 0x7A { v -= 0x20 }  // a-z → A-Z
            if isSeparator(v) { continue }
            scalars.append(Unicode.Scalar(v)!)
        }
        // Serial positions start after province + authority letter, or after 使.
        let serialStart: Int
        if let first = scalars.first, first == "使" {
            serialStart = 1
        } else {
            serialStart = 2
        }
        if scalars.count > serialStart {
            for i in serialStart..<scalars.count {
                if scalars[i] == "O" { scalars[i] = "0" } else if scalars[i] == "I" { scalars[i] = "1" }
            }
        }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars)
        return String(out)
    }

    /// Separators seen between plate groups: spaces, tabs, hyphens, dots, middle dots, bullets.
    @inline(__always)
    static func isSeparator(_ v: UInt32) -> Bool {
        switch v {
        case 0x20, 0x09, 0x2D, 0x2E, 0xB7, 0x2010, 0x2011, 0x2022, 0x2027, 0x30FB: true
        default: false
        }
    }

    /// True when `normalize` would return `raw` unchanged.
    static func isNormalized(_ raw: String) -> Bool {
        var i = 0
        var serialStart = 2
        for s in raw.unicodeScalars {
            let v = s.value
            if i == 0 && s == "使" { serialStart = 1 }
            if (v >= 0xFF01 && v <= 0xFF5E) || v == 0x3000 || (v >= 0x61 && v <= 0x7A) || isSeparator(v) { return false }
            if i >= serialStart && (v == 0x4F || v == 0x49) { return false }
            i += 1
        }
        return true
    }

    // MARK: Grammar (GA 36)

    /// The 31 province abbreviations.
    public static let provinces: Set<Unicode.Scalar> = Set("京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵云藏陕甘青宁新".unicodeScalars)

    /// Authority and serial letters: A–Z without I and O.
    static func isPlateLetter(_ s: Unicode.Scalar) -> Bool {
        s.value >= 0x41 && s.value <= 0x5A && s != "I" && s != "O"
    }
    static func isDigit(_ s: Unicode.Scalar) -> Bool { s.value >= 0x30 && s.value <= 0x39 }
    static func isSerial(_ s: Unicode.Scalar) -> Bool { isDigit(s) || isPlateLetter(s) }

    static func classify(_ c: [Unicode.Scalar], raw: String) throws(PlateError) -> Kind {
        guard !c.isEmpty else { throw PlateError(text: raw, problem: .empty) }
        if c[0] == "使" {
            guard c.count == 7 else { throw PlateError(text: raw, problem: .length(c.count, expected: "7 for 使 plates")) }
            for i in 1..<7 where !isDigit(c[i]) {
                throw PlateError(text: raw, problem: .character(Character(c[i]), position: i + 1, expected: "a digit"))
            }
            return .embassy
        }
        guard provinces.contains(c[0]) else {
            throw PlateError(text: raw, problem: .character(Character(c[0]), position: 1, expected: "a province character or 使"))
        }
        guard c.count >= 2 else { throw PlateError(text: raw, problem: .length(c.count, expected: "7 or 8")) }
        let authorityIsO = c[1] == "O"
        guard isPlateLetter(c[1]) || authorityIsO else {
            throw PlateError(text: raw, problem: .character(Character(c[1]), position: 2, expected: "a letter other than I"))
        }
        switch c.count {
        case 7:
            let last = c[6]
            let suffixKinds: [Unicode.Scalar: Kind] = ["挂": .trailer, "学": .coach, "警": .police, "领": .consulate, "港": .hongKongMacau, "澳": .hongKongMacau]
            let kind: Kind
            let serialEnd: Int
            if let k = suffixKinds[last] {
                kind = k
                serialEnd = 6
            } else {
                kind = .standard
                serialEnd = 7
            }
            if authorityIsO && kind != .police {
                throw PlateError(text: raw, problem: .character("O", position: 2, expected: "a letter other than I and O (O only on police plates)"))
            }
            if kind == .hongKongMacau && !(c[0] == "粤" && c[1] == "Z") {
                throw PlateError(text: raw, problem: .character(Character(c[0]), position: 1, expected: "粤Z before 港/澳"))
            }
            for i in 2..<serialEnd where !isSerial(c[i]) {
                throw PlateError(text: raw, problem: .character(Character(c[i]), position: i + 1, expected: "a digit or letter other than I and O"))
            }
            return kind
        case 8:
            if authorityIsO {
                throw PlateError(text: raw, problem: .character("O", position: 2, expected: "a letter other than I and O"))
            }
            let serial = Array(c[2...])
            if serial[0] == "D" || serial[0] == "F" {
                guard isSerial(serial[1]) else {
                    throw PlateError(text: raw, problem: .character(Character(serial[1]), position: 4, expected: "a digit or letter other than I and O"))
                }
                for i in 2..<6 where !isDigit(serial[i]) {
                    throw PlateError(text: raw, problem: .character(Character(serial[i]), position: i + 3, expected: "a digit (new-energy small plate)"))
                }
                return .newEnergySmall
            }
            if serial[5] == "D" || serial[5] == "F" {
                for i in 0..<5 where !isDigit(serial[i]) {
                    throw PlateError(text: raw, problem: .character(Character(serial[i]), position: i + 3, expected: "a digit (new-energy large plate)"))
                }
                return .newEnergyLarge
            }
            throw PlateError(text: raw, problem: .character(Character(serial[0]), position: 3, expected: "D or F in position 3 or 8 of an 8-character new-energy plate"))
        default:
            throw PlateError(text: raw, problem: .length(c.count, expected: "7, or 8 for new-energy plates"))
        }
    }
}

/// Why a text is not a GA 36 plate.
public struct PlateError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The text as given.
    public let text: String
    public let problem: Problem

    public enum Problem: Equatable, Sendable {
        case empty
        case length(Int, expected: String)
        /// `position` counts characters of the normalised text from 1.
        case character(Character, position: Int, expected: String)
    }

    public var description: String {
        switch problem {
        case .empty:
            return "plate text is empty"
        case .length(let n, let expected):
            return "plate '\(text)' has \(n) characters after normalisation, expected \(expected)"
        case .character(let ch, let position, let expected):
            return "plate '\(text)': character \(position) is '\(ch)', expected \(expected)"
        }
    }
}
