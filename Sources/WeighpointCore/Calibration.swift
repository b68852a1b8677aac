/// A calibration factor in ten-thousandths (10 000 = 1.0000): integers, so a profile's text, its
/// hash and every corrected load are the same on every machine.
public struct CalibrationFactor: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let tenThousandths: Int

    public init(tenThousandths: Int) { self.tenThousandths = tenThousandths }

    public static let one = CalibrationFactor(tenThousandths: 10_000)
    /// A factor outside ±20 % means a sensor fault or a mistyped value, not a calibration.
    public static let allowed = 8_000...12_000

    /// Parses `0.9870` or `1` (at most four decimals).
    public init?(parsing text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        // At most two whole digits: a factor is near 1, and a longer number would overflow below.
        guard (1...2).contains(parts.count), (1...2).contains(parts[0].count), parts[0].allSatisfy({ $0.isASCII && $0.isNumber }), let whole = Int(parts[0]) else { return nil }
        var frac = 0
        if parts.count == 2 {
            let f = parts[1]
            guard !f.isEmpty, f.count <= 4, f.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(f) else { return nil }
            frac = v * [1, 1000, 100, 10, 1][f.count]
        }
        tenThousandths = whole * 10_000 + frac
    }

    public var description: String {
        let f = tenThousandths % 10_000
        return "\(tenThousandths / 10_000)." + String(repeating: "0", count: 4 - String(f).count) + String(f)
    }

    /// `(self / other − 1)` as a signed percentage with two decimals, e.g. `-1.30 %`.
    public func change(from old: CalibrationFactor) -> String {
        let hundredths = roundedRatio10k(tenThousandths - old.tenThousandths, old.tenThousandths)
        return signedHundredths(hundredths) + " %"
    }

    /// `kg × factor`, rounded half away from zero.
    public func apply(_ kg: Int) -> Int {
        let p = kg * tenThousandths
        return (p + (p >= 0 ? 5_000 : -5_000)) / 10_000
    }

    public static func < (a: Self, b: Self) -> Bool { a.tenThousandths < b.tenThousandths }
}

/// `-130` → `-1.30`, `5` → `+0.05`.
public func signedHundredths(_ v: Int) -> String {
    let a = abs(v)
    return (v < 0 ? "-" : "+") + "\(a / 100)." + (a % 100 < 10 ? "0" : "") + "\(a % 100)"
}

/// The axle configuration a factor can be specific to: axles per group, front first, as the
/// controller reports them (`1+2+3`: steer, tandem drive, tridem trailer).
public struct AxleConfiguration: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let groups: [Int]
    public init(groups: [Int]) { self.groups = groups }

    /// Parses `1+2+3`.
    public init?(parsing text: some StringProtocol) {
        let g = text.split(separator: "+", omittingEmptySubsequences: false).map { Int($0) }
        guard !g.isEmpty, g.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 4 }) else { return nil }
        groups = g.map { $0! }
        guard axleCount <= 12 else { return nil }
    }

    public var axleCount: Int { groups.reduce(0, +) }
    public var description: String { groups.map(String.init).joined(separator: "+") }
    public static func < (a: Self, b: Self) -> Bool { (a.axleCount, a.description) < (b.axleCount, b.description) }
}

/// Where a factor applies: a lane, optionally one speed band and optionally one axle
/// configuration. The most specific cell that matches a weighing wins.
public struct CalibrationCell: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var lane: Int
    /// Lower bound of the speed band, km/h (the band is `[lower, lower + width)`); nil: all speeds.
    public var speedFromKmh: Int?
    /// nil: all axle configurations.
    public var axles: AxleConfiguration?

    public init(lane: Int, speedFromKmh: Int? = nil, axles: AxleConfiguration? = nil) {
        self.lane = lane
        self.speedFromKmh = speedFromKmh
        self.axles = axles
    }

    /// Lookup order: speed band and axles, speed band, axles, the lane alone.
    var specificity: Int { (speedFromKmh != nil ? 2 : 0) + (axles != nil ? 1 : 0) }

    public func describe(bandWidthKmh: Int) -> String {
        let speed = speedFromKmh.map { "\($0)-\($0 + bandWidthKmh) km/h" } ?? "all speeds"
        return "lane \(lane), \(speed), \(axles.map { "axles \($0)" } ?? "all axle configurations")"
    }

    public var description: String { describe(bandWidthKmh: CalibrationProfile.defaultBandWidthKmh) }

    public static func < (a: Self, b: Self) -> Bool {
        (a.lane, a.speedFromKmh ?? -1, a.axles?.description ?? "") < (b.lane, b.speedFromKmh ?? -1, b.axles?.description ?? "")
    }
}

/// The metrological parameters a technician adjusts: WIM correction factors per lane, speed band
/// and axle configuration, and the tolerance deducted before comparing with a limit. The unit
/// multiplies the controller's axle loads and gross by the factor of the most specific matching
/// cell; a lane without any cell is uncalibrated (factor 1, and the console says so).
public struct CalibrationProfile: Hashable, Sendable {
    public static let defaultBandWidthKmh = 5

    /// Width of the speed bands, km/h (band lower bounds are multiples of it).
    public var bandWidthKmh: Int
    public var factors: [CalibrationCell: CalibrationFactor]
    /// nil: the station configuration's `[rules]` tolerance applies.
    public var tolerance: Tolerance?

    public init(bandWidthKmh: Int = defaultBandWidthKmh, factors: [CalibrationCell: CalibrationFactor] = [:], tolerance: Tolerance? = nil) {
        self.bandWidthKmh = bandWidthKmh
        self.factors = factors
        self.tolerance = tolerance
    }

    /// The band lower bound that `speedKmh` falls in.
    public func bandStart(_ speedKmh: Double) -> Int {
        guard speedKmh.isFinite, speedKmh >= 0 else { return 0 }
        return Int(speedKmh) / bandWidthKmh * bandWidthKmh
    }

    /// The cell and factor that apply; no cell means uncalibrated (factor 1).
    public func lookup(lane: Int, speedKmh: Double, axles: AxleConfiguration) -> (cell: CalibrationCell?, factor: CalibrationFactor) {
        let band = bandStart(speedKmh)
        let candidates = [
            CalibrationCell(lane: lane, speedFromKmh: band, axles: axles), CalibrationCell(lane: lane, speedFromKmh: band),
            CalibrationCell(lane: lane, axles: axles), CalibrationCell(lane: lane),
        ]
        for c in candidates { if let f = factors[c] { return (c, f) } }
        return (nil, .one)
    }

    /// What weighings of `cell` get when `cell` itself holds no factor: the most specific less
    /// specific cell that covers it, or factor 1 (uncalibrated).
    public func covering(_ cell: CalibrationCell) -> (cell: CalibrationCell?, factor: CalibrationFactor) {
        var candidates: [CalibrationCell] = []
        if cell.speedFromKmh != nil && cell.axles != nil {
            candidates.append(CalibrationCell(lane: cell.lane, speedFromKmh: cell.speedFromKmh))
            candidates.append(CalibrationCell(lane: cell.lane, axles: cell.axles))
        }
        if cell.specificity > 0 { candidates.append(CalibrationCell(lane: cell.lane)) }
        for c in candidates { if let f = factors[c] { return (c, f) } }
        return (nil, .one)
    }

    /// Cells of a lane, in lookup-table order.
    public func cells(lane: Int) -> [(CalibrationCell, CalibrationFactor)] {
        factors.filter { $0.key.lane == lane }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// `w` with its axle loads and reported gross corrected, carrying what was applied.
    public func apply(to w: Weighing, profileSHA256: String) -> Weighing {
        let (cell, f) = lookup(lane: w.lane, speedKmh: w.speedKmh, axles: AxleConfiguration(groups: w.groups))
        var out = w
        out.axles = w.axles.map { Axle(kg: f.apply($0.kg), tyres: $0.tyres) }
        out.reportedGrossKg = w.reportedGrossKg.map(f.apply)
        out.calibration = AppliedCalibration(
            factor: f, cell: cell, controllerAxlesKg: w.axles.map(\.kg), controllerGrossKg: w.reportedGrossKg, profileSHA256: profileSHA256)
        return out
    }
}

/// The correction a weighing received, kept with it into the record: the factor, the cell it
/// came from (nil: the lane is uncalibrated), the controller's own figures and the profile.
public struct AppliedCalibration: Hashable, Sendable {
    public var factor: CalibrationFactor
    public var cell: CalibrationCell?
    public var controllerAxlesKg: [Int]
    public var controllerGrossKg: Int?
    public var profileSHA256: String

    public init(factor: CalibrationFactor, cell: CalibrationCell?, controllerAxlesKg: [Int], controllerGrossKg: Int?, profileSHA256: String) {
        self.factor = factor
        self.cell = cell
        self.controllerAxlesKg = controllerAxlesKg
        self.controllerGrossKg = controllerGrossKg
        self.profileSHA256 = profileSHA256
    }

    /// The controller's gross (its figure, else the sum of its axle loads).
    public var controllerGrossOrSumKg: Int { controllerGrossKg ?? controllerAxlesKg.reduce(0, +) }
}
