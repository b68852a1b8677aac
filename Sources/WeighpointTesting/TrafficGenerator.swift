import WeighpointCore
import WeighpointModbus

/// Realistic WIM traffic: a vehicle mix by axle configuration as seen at Chinese overload
/// stations (six-axle combinations dominate freight), a share of overloads, a share of flagged
/// weighings, speeds and lanes. Deterministic for a seed.
public struct TrafficGenerator {
    private var rng: SplitMix64
    public var nextSequence: UInt64
    public var lanes: Int
    /// Fraction of vehicles loaded over their Article 3 limit.
    public var overloadShare: Double
    /// Fraction of weighings the controller flags (straddle, acceleration, …).
    public var flaggedShare: Double
    /// Status bits a flagged weighing may carry (one of them): the profile's named bits.
    public var flagBits: [Int]

    public init(seed: UInt64, firstSequence: UInt64 = 1, lanes: Int = 2, overloadShare: Double = 0.2, flaggedShare: Double = 0.05, flagBits: [Int] = Array(0..<8)) {
        self.flagBits = flagBits
        rng = SplitMix64(seed: seed)
        nextSequence = firstSequence
        self.lanes = lanes
        self.overloadShare = overloadShare
        self.flaggedShare = flaggedShare
    }

    struct Configuration {
        let share: Int  // percent
        let body: VehicleBody
        let driveAxles: Int
        let groups: [Int]
        let groupTypes: [GroupType]
        let tyres: [TyreType]
        let spacingsMm: [Int]
        let lengthMm: Int
        let limitKg: Int
    }

    static let mix: [Configuration] = [
        Configuration(share: 25, body: .rigid, driveAxles: 1, groups: [1, 1], groupTypes: [.steer, .drive], tyres: [.single, .dual], spacingsMm: [4_500], lengthMm: 9_000, limitKg: 18_000),
        Configuration(share: 12, body: .rigid, driveAxles: 2, groups: [1, 2], groupTypes: [.steer, .drive], tyres: [.single, .dual, .dual], spacingsMm: [4_200, 1_350], lengthMm: 10_500, limitKg: 25_000),
        Configuration(share: 10, body: .rigid, driveAxles: 2, groups: [1, 1, 2], groupTypes: [.steer, .steer, .drive], tyres: [.single, .single, .dual, .dual], spacingsMm: [1_800, 4_300, 1_350], lengthMm: 11_800, limitKg: 31_000),
        Configuration(share: 10, body: .combination, driveAxles: 1, groups: [1, 1, 3], groupTypes: [.steer, .drive, .trailer], tyres: [.single, .dual, .dual, .dual, .dual], spacingsMm: [3_600, 7_200, 1_310, 1_310], lengthMm: 16_500, limitKg: 43_000),
        Configuration(share: 33, body: .combination, driveAxles: 2, groups: [1, 2, 3], groupTypes: [.steer, .drive, .trailer], tyres: [.single, .dual, .dual, .dual, .dual, .dual], spacingsMm: [3_300, 1_350, 6_900, 1_310, 1_310], lengthMm: 16_800, limitKg: 49_000),
        Configuration(share: 10, body: .combination, driveAxles: 1, groups: [1, 1, 1, 3], groupTypes: [.steer, .drive, .non_driven, .trailer], tyres: [.single, .dual, .dual, .dual, .dual, .dual], spacingsMm: [3_200, 1_350, 7_000, 1_310, 1_310], lengthMm: 16_900, limitKg: 46_000),
    ]

    mutating func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
    mutating func uniform(_ r: ClosedRange<Double>) -> Double { r.lowerBound + uniform() * (r.upperBound - r.lowerBound) }

    /// The next vehicle, first axle on the sensor at `time`.
    public mutating func vehicle(at time: Timestamp) -> WIMRecord {
        var pick = Int(rng.next() % 100)
        var config = Self.mix.last!
        for c in Self.mix {
            if pick < c.share { config = c; break }
            pick -= c.share
        }
        let overloaded = uniform() < overloadShare
        let target = Double(config.limitKg) * (overloaded ? uniform(1.03...1.45) : uniform(0.45...0.97))
        // Steer axle 6–7.5 t; the rest shares what remains, the drive axles a little more.
        let steer = uniform(6_000...7_500)
        let restAxles = config.tyres.count - 1
        var weights = (0..<restAxles).map { i in i < config.driveAxles ? 1.15 : 1.0 }
        let sum = weights.reduce(0, +)
        weights = weights.map { $0 / sum * max(target - steer, Double(restAxles) * 2_000) }
        let loads = ([steer] + weights).map { Int(($0 * uniform(0.97...1.03) / 10).rounded()) * 10 }
        var status: UInt16 = 0
        if uniform() < flaggedShare, !flagBits.isEmpty { status = 1 << UInt16(flagBits[Int(rng.next() % UInt64(flagBits.count))]) }
        let seq = nextSequence
        nextSequence += 1
        return WIMRecord(
            sequence: seq, time: time, lane: 1 + Int(rng.next() % UInt64(max(lanes, 1))), direction: 0,
            speedKmh: (uniform(25...85) * 100).rounded() / 100, axleCount: loads.count, grossKg: loads.reduce(0, +),
            lengthMm: config.lengthMm, temperatureC: (uniform(-5...35) * 10).rounded() / 10,
            confidencePercent: 85 + Int(rng.next() % 15), status: status, body: config.body, driveAxles: config.driveAxles,
            axleLoadsKg: loads, tyres: config.tyres, groups: config.groups, groupTypes: config.groupTypes,
            spacingsMm: config.spacingsMm)
    }
}
