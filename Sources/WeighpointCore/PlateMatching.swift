/// How a plate read matches a list entry (Docs/decision-core.md), best first.
public enum PlateMatchKind: String, Sendable, Comparable, CaseIterable {
    /// The normalised texts are equal.
    case exact
    /// Same length; every differing position holds two characters of one look-alike set; at
    /// most two such positions.
    case lookalike
    /// Levenshtein distance 1 (one substitution, insertion or deletion), not exact or lookalike.
    case edit

    var rank: Int {
        switch self {
        case .exact: 0
        case .lookalike: 1
        case .edit: 2
        }
    }

    public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
}

/// OCR look-alike sets (DESIGN.md): characters a reader confuses with one another.
public enum LookalikeSets {
    public static let sets: [Set<Unicode.Scalar>] = [
        ["0", "O", "D", "Q"], ["1", "I", "7"], ["2", "Z"], ["5", "S"], ["8", "B"], ["6", "G"],
    ]

    /// The representative of `v`'s look-alike set (its first member in `sets`), or `v` itself.
    /// The sets are disjoint, so two scalars are look-alikes exactly when they differ and share
    /// a representative.
    @inline(__always)
    public static func representative(_ v: UInt32) -> UInt32 {
        switch v {
        case 0x4F, 0x44, 0x51: 0x30  // O D Q → 0
        case 0x49, 0x37: 0x31  // I 7 → 1
        case 0x5A: 0x32  // Z → 2
        case 0x53: 0x35  // S → 5
        case 0x42: 0x38  // B → 8
        case 0x47: 0x36  // G → 6
        default: v
        }
    }

    /// True when `a` and `b` differ and belong to the same look-alike set.
    @inline(__always)
    public static func areLookalikes(_ a: Unicode.Scalar, _ b: Unicode.Scalar) -> Bool {
        a != b && representative(a.value) == representative(b.value)
    }
}

/// Classifies how `a` matches `b`, both normalised; nil when they do not match. Symmetric.
/// This is the plain, obviously-correct definition; faster indexes must agree with it.
public func plateMatchKind(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> PlateMatchKind? {
    let x = a.map(\.value), y = b.map(\.value)
    return x.withUnsafeBufferPointer { xb in y.withUnsafeBufferPointer { yb in plateMatchKind(values: xb, yb) } }
}

/// `plateMatchKind` over normalised strings.
public func plateMatchKind(_ a: String, _ b: String) -> PlateMatchKind? {
    plateMatchKind(Array(a.unicodeScalars), Array(b.unicodeScalars))
}

/// `plateMatchKind` over scalar values, without allocating: the form indexes verify with.
@inline(__always)
func plateMatchKind(values a: UnsafeBufferPointer<UInt32>, _ b: UnsafeBufferPointer<UInt32>) -> PlateMatchKind? {
    if a.count == b.count {
        var lookalikePositions = 0
        var otherPositions = 0
        for i in 0..<a.count where a[i] != b[i] {
            if LookalikeSets.representative(a[i]) == LookalikeSets.representative(b[i]) {
                lookalikePositions += 1
            } else {
                otherPositions += 1
            }
            if otherPositions + lookalikePositions > 2 { return nil }
        }
        if otherPositions == 0 && lookalikePositions == 0 { return .exact }
        if otherPositions == 0 { return .lookalike }  // 1 or 2 look-alike positions
        // Same length: Levenshtein distance 1 means exactly one substitution.
        return otherPositions + lookalikePositions == 1 ? .edit : nil
    }
    let (short, long) = a.count < b.count ? (a, b) : (b, a)
    guard long.count == short.count + 1 else { return nil }
    // One deletion from `long` must give `short`: skip the first mismatch and compare the rest.
    var i = 0
    while i < short.count && short[i] == long[i] { i += 1 }
    while i < short.count {
        if short[i] != long[i + 1] { return nil }
        i += 1
    }
    return .edit
}

/// One list entry that a query matched.
public struct PlateMatch: Hashable, Sendable {
    /// The list entry (normalised).
    public let plate: String
    public let kind: PlateMatchKind

    public init(plate: String, kind: PlateMatchKind) {
        self.plate = plate
        self.kind = kind
    }
}

/// Lexicographic order by Unicode scalar value: the order plate lists are reported in.
public func plateOrder(_ a: String, _ b: String) -> Bool {
    a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) { $0.value < $1.value }
}

/// Orders matches by kind (exact, lookalike, edit), then plate.
public func matchOrder(_ a: PlateMatch, _ b: PlateMatch) -> Bool {
    a.kind != b.kind ? a.kind < b.kind : plateOrder(a.plate, b.plate)
}

/// A list of plates (permits, watch list) matched by scanning every entry: the reference
/// implementation against which faster indexes are checked.
public struct PlateList: Sendable {
    /// Normalised, de-duplicated entries in list order.
    public let plates: [String]
    private let values: [[UInt32]]

    /// Builds the list from plate texts, normalising each and dropping duplicates.
    public init<S: Sequence>(_ entries: S) where S.Element == String {
        self.plates = PlateList.normalizedUnique(entries)
        self.values = plates.map { $0.unicodeScalars.map(\.value) }
    }

    /// Normalised entries without empties and duplicates, in first-seen order.
    public static func normalizedUnique<S: Sequence>(_ entries: S) -> [String] where S.Element == String {
        var seen = Set<String>()
        var plates: [String] = []
        for e in entries {
            let n = Plate.normalize(e)
            if !n.isEmpty && seen.insert(n).inserted { plates.append(n) }
        }
        return plates
    }

    /// Every entry matching `query` (normalised here), sorted by kind then plate.
    public func matches(for query: String) -> [PlateMatch] {
        let q = Plate.normalize(query).unicodeScalars.map(\.value)
        var out: [PlateMatch] = []
        q.withUnsafeBufferPointer { qb in
            for (i, entry) in values.enumerated() {
                let kind = entry.withUnsafeBufferPointer { plateMatchKind(values: qb, $0) }
                if let kind { out.append(PlateMatch(plate: plates[i], kind: kind)) }
            }
        }
        return out.sorted(by: matchOrder)
    }
}
