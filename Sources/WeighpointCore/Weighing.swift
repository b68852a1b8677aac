/// Tyres on each side of an axle.
public enum TyreType: String, Sendable, CaseIterable {
    case single
    case dual
    /// Wide single tyres per the national standard; they do not lower the Article 3 limit.
    case wide
}

/// One axle as weighed.
public struct Axle: Hashable, Sendable {
    public var kg: Int
    public var tyres: TyreType

    public init(kg: Int, tyres: TyreType) {
        self.kg = kg
        self.tyres = tyres
    }
}

/// Vehicle body as Article 3 distinguishes it.
public enum VehicleBody: String, Sendable, CaseIterable {
    /// 货车: a rigid truck.
    case rigid
    /// 汽车列车: a tractor with semi-trailer or a truck with full trailer.
    case combination
}

/// A controller's validity flag. Any flag makes a weighing invalid: it never yields a violation.
public struct WeighingFlag: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static let straddle = WeighingFlag(rawValue: "straddle")
    public static let acceleration = WeighingFlag(rawValue: "accel")
    public static let stopAndGo = WeighingFlag(rawValue: "stop_go")
    public static let sTurn = WeighingFlag(rawValue: "s_turn")
    public static let tailgating = WeighingFlag(rawValue: "tailgate")
    public static let lowConfidence = WeighingFlag(rawValue: "low_confidence")
    public static let sensorFault = WeighingFlag(rawValue: "sensor_fault")
    /// The vendor marks the weight as synthesised or learned rather than measured.
    public static let synthetic = WeighingFlag(rawValue: "synthetic")

    /// Flags of Docs/decision-core.md; controllers may report others, which invalidate just the same.
    public static let known: [WeighingFlag] = [.straddle, .acceleration, .stopAndGo, .sTurn, .tailgating, .lowConfidence, .sensorFault, .synthetic]
}

/// One vehicle pass over the weigh-in-motion sensors, as the controller reports it.
public struct Weighing: Hashable, Sendable {
    /// Controller sequence number.
    public var seq: UInt64
    public var lane: Int
    /// UTC time of the first axle on the sensor.
    public var time: Timestamp
    public var speedKmh: Double
    public var body: VehicleBody
    /// Drive axles of the tractor; nil when the controller does not say.
    public var driveAxles: Int?
    /// Axles in order, front first.
    public var axles: [Axle]
    /// Axles per axle group in order (`[1,1,1,3]`: steer, drive, drive, tridem).
    public var groups: [Int]
    public var spacingsMm: [Int]
    /// Vehicle length; nil when not measured (rear cameras then expect the read at the front's time).
    public var lengthMm: Int?
    /// Gross as the controller reports it; nil means the sum of axle loads.
    public var reportedGrossKg: Int?
    public var flags: [WeighingFlag]
    /// Problems the driver found decoding the controller's record; they invalidate the weighing.
    public var decodeProblems: [InvalidityReason] = []
    /// The calibration correction the unit applied to the controller's loads; nil when none was
    /// (replayed scenarios, tests).
    public var calibration: AppliedCalibration?

    public init(
        seq: UInt64, lane: Int, time: Timestamp, speedKmh: Double, body: VehicleBody, driveAxles: Int?,
        axles: [Axle], groups: [Int], spacingsMm: [Int] = [], lengthMm: Int? = nil, reportedGrossKg: Int? = nil,
        flags: [WeighingFlag] = []
    ) {
        self.seq = seq
        self.lane = lane
        self.time = time
        self.speedKmh = speedKmh
        self.body = body
        self.driveAxles = driveAxles
        self.axles = axles
        self.groups = groups
        self.spacingsMm = spacingsMm
        self.lengthMm = lengthMm
        self.reportedGrossKg = reportedGrossKg
        self.flags = flags
    }

    /// Sum of the axle loads.
    public var axleSumKg: Int { axles.reduce(0) { $0 + $1.kg } }

    /// The gross the assessment uses: the controller's figure if given, else the axle sum.
    public var grossKg: Int { reportedGrossKg ?? axleSumKg }

    /// For each axle, the size of the group it stands in; nil when `groups` does not add up.
    public var groupSizeOfAxle: [Int]? {
        guard groups.reduce(0, +) == axles.count, groups.allSatisfy({ $0 > 0 }) else { return nil }
        return groups.flatMap { Array(repeating: $0, count: $0) }
    }
}

/// Why a weighing cannot support a violation.
public struct InvalidityReason: Hashable, Sendable, CustomStringConvertible {
    /// Short code: a controller flag name or a plausibility check name.
    public let code: String
    /// Detail for people, e.g. which axle and what value; empty for plain controller flags.
    public let detail: String

    public init(code: String, detail: String = "") {
        self.code = code
        self.detail = detail
    }

    public var description: String { detail.isEmpty ? code : "\(code) (\(detail))" }
}

/// Plausibility limits for weighings, applied in addition to the controller's own flags.
public struct PlausibilityRules: Hashable, Sendable {
    /// Speeds outside this range are outside the WIM system's specified range.
    public var speedKmh: ClosedRange<Double> = 0.5...100
    /// Reported gross may differ from the axle sum by this fraction of the sum …
    public var grossSumToleranceFraction: Double = 0.01
    /// … or by this many kg, whichever is larger (controllers round each axle).
    public var grossSumToleranceKg: Int = 100

    public init() {}
}

extension Weighing {
    /// Every reason this weighing is invalid: its flags, then failed plausibility checks.
    /// Empty means the weighing is valid.
    public func invalidityReasons(_ rules: PlausibilityRules = PlausibilityRules()) -> [InvalidityReason] {
        var out = flags.map { InvalidityReason(code: $0.rawValue) } + decodeProblems
        if axles.count < 2 {
            out.append(InvalidityReason(code: "axle_count", detail: "\(axles.count) axles; a truck has at least 2"))
        }
        for (i, a) in axles.enumerated() where a.kg < 0 {
            out.append(InvalidityReason(code: "negative_axle_load", detail: "axle \(i + 1): \(a.kg) kg"))
        }
        if groups.reduce(0, +) != axles.count || groups.contains(where: { $0 <= 0 }) {
            out.append(InvalidityReason(code: "groups_mismatch", detail: "groups \(groups) do not add up to \(axles.count) axles"))
        }
        if !spacingsMm.isEmpty && spacingsMm.count != axles.count - 1 {
            out.append(InvalidityReason(code: "spacings_mismatch", detail: "\(spacingsMm.count) spacings for \(axles.count) axles"))
        }
        if !speedKmh.isFinite || !rules.speedKmh.contains(speedKmh) {
            out.append(InvalidityReason(code: "speed_out_of_range", detail: "\(speedKmh) km/h outside \(rules.speedKmh.lowerBound)–\(rules.speedKmh.upperBound) km/h"))
        }
        if let reported = reportedGrossKg {
            let sum = axleSumKg
            let allowed = max(rules.grossSumToleranceKg, Int((Double(abs(sum)) * rules.grossSumToleranceFraction).rounded(.up)))
            if abs(reported - sum) > allowed {
                out.append(InvalidityReason(code: "gross_mismatch", detail: "reported \(reported) kg, axle sum \(sum) kg"))
            }
        }
        if let d = driveAxles, d < 0 || d > axles.count {
            out.append(InvalidityReason(code: "drive_axles", detail: "\(d) drive axles on \(axles.count) axles"))
        }
        return out
    }
}
