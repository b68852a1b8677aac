/// An oversize-transport permit (超限运输许可): plate, validity window, maximum permitted gross.
public struct Permit: Hashable, Sendable {
    /// Normalised plate.
    public let plate: String
    public let validFrom: Timestamp
    /// End of validity, exclusive.
    public let validUntil: Timestamp
    public let maxGrossKg: Int

    public init(plate: String, validFrom: Timestamp, validUntil: Timestamp, maxGrossKg: Int) {
        self.plate = Plate.normalize(plate)
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.maxGrossKg = maxGrossKg
    }

    public func isValid(at t: Timestamp) -> Bool { validFrom <= t && t < validUntil }
}

/// The permits in force at a station, matched against plate reads.
public struct PermitBook: Sendable {
    public let permits: [Permit]
    private let byPlate: [String: [Permit]]
    private let index: PlateIndex

    public init(_ permits: [Permit]) {
        self.permits = permits
        self.byPlate = Dictionary(grouping: permits, by: \.plate)
        self.index = PlateIndex(permits.map(\.plate))
    }

    /// The best permit that covers `massKg` at `time` for any of `plates`: exact matches before
    /// look-alike before one-edit, then the larger maximum. Nil when none covers.
    public func bestCovering(plates: [String], at time: Timestamp, massKg: Int) -> PermitUse? {
        var best: PermitUse?
        for plate in plates {
            for m in index.matches(for: plate) {
                for p in byPlate[m.plate] ?? [] where p.isValid(at: time) && p.maxGrossKg >= massKg {
                    let use = PermitUse(permit: p, matchedPlate: Plate.normalize(plate), kind: m.kind)
                    if let b = best, (b.kind, -b.permit.maxGrossKg) <= (use.kind, -use.permit.maxGrossKg) { continue }
                    best = use
                }
            }
        }
        return best
    }
}

/// A permit applied to a weighing, and how its plate matched the read.
public struct PermitUse: Hashable, Sendable {
    public let permit: Permit
    /// The plate as read (normalised) that matched the permit.
    public let matchedPlate: String
    public let kind: PlateMatchKind
}
