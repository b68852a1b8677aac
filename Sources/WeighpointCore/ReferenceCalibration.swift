/// A reference vehicle: its axle loads weighed on a certified static scale.
public struct ReferenceVehicle: Hashable, Sendable {
    public var axlesKg: [Int]
    /// Axles per group, when declared; otherwise the first accepted pass fixes it.
    public var configuration: AxleConfiguration?

    public init(axlesKg: [Int], configuration: AxleConfiguration? = nil) {
        self.axlesKg = axlesKg
        self.configuration = configuration
    }

    public var grossKg: Int { axlesKg.reduce(0, +) }
}

/// One pass of the reference vehicle over the sensors, as the controller measured it.
public struct ReferencePass: Hashable, Sendable {
    public var controllerSeq: UInt64
    public var speedKmh: Double
    /// The controller's axle loads, before any correction.
    public var controllerAxlesKg: [Int]
    public var controllerGrossKg: Int
    /// The factor that was in force for this pass.
    public var appliedFactor: CalibrationFactor
    public var configuration: AxleConfiguration

    /// The gross the unit used: the controller's, corrected by the factor in force.
    public var measuredGrossKg: Int { appliedFactor.apply(controllerGrossKg) }

    /// Error of the gross the unit used against the static gross, in hundredths of a percent.
    public func grossErrorHundredths(_ v: ReferenceVehicle) -> Int {
        roundedRatio10k(measuredGrossKg - v.grossKg, v.grossKg)
    }

    /// The axle whose corrected load is furthest from its static load: (axle from 1, error in
    /// hundredths of a percent).
    public func worstAxle(_ v: ReferenceVehicle) -> (axle: Int, errorHundredths: Int) {
        var worst = (1, 0)
        for (i, (kg, ref)) in zip(controllerAxlesKg, v.axlesKg).enumerated() where ref > 0 {
            let e = roundedRatio10k(appliedFactor.apply(kg) - ref, ref)
            if abs(e) > abs(worst.1) { worst = (i + 1, e) }
        }
        return worst
    }
}

/// Why a weighing on the reference lane was not taken as a pass.
public enum PassRejection: Error, Hashable, Sendable, CustomStringConvertible {
    case invalid([String])
    case axleCount(Int, expected: Int)
    case configuration(AxleConfiguration, expected: AxleConfiguration)
    case grossFar(Int, reference: Int)

    public var description: String {
        switch self {
        case .invalid(let r): "invalid weighing: \(r.joined(separator: ", "))"
        case .axleCount(let n, let e): "\(n) axles, the reference vehicle has \(e)"
        case .configuration(let c, let e): "axle groups \(c), the reference vehicle has \(e)"
        case .grossFar(let g, let r): "gross \(g) kg is more than 20 % from the reference's \(r) kg (another vehicle?)"
        }
    }
}

/// A factor the reference run proposes for a cell.
public struct ProposedFactor: Hashable, Sendable {
    public var cell: CalibrationCell
    /// The factor now in that exact cell; nil when the cell does not exist yet.
    public var old: CalibrationFactor?
    public var new: CalibrationFactor
    /// Standard error of `new`, ten-thousandths; nil with a single pass.
    public var standardError: Int?
    public var passes: Int
}

/// The reference-truck procedure (DESIGN.md, technician console): passes of a vehicle of known
/// static axle loads over one lane; per-pass errors, their mean and spread, and the factors that
/// would make the mean pass read the static gross. Proposes; applying is the console's business.
public struct ReferenceRun: Sendable {
    public let lane: Int
    public private(set) var vehicle: ReferenceVehicle
    public let passesWanted: Int
    /// Propose factors for the vehicle's axle configuration only, instead of for the whole lane.
    public let perConfiguration: Bool
    public private(set) var passes: [ReferencePass] = []
    /// Passes per speed band needed before a band gets its own factor.
    public static let minimumPassesPerBand = 3

    public init(lane: Int, vehicle: ReferenceVehicle, passes: Int, perConfiguration: Bool = false) {
        self.lane = lane
        self.vehicle = vehicle
        self.passesWanted = passes
        self.perConfiguration = perConfiguration
    }

    public var isComplete: Bool { passes.count >= passesWanted }

    /// Offers a weighing: nil when it is not on the lane, else the pass taken or why not.
    public mutating func offer(_ w: Weighing) -> Result<ReferencePass, PassRejection>? {
        guard w.lane == lane else { return nil }
        let reasons = w.invalidityReasons()
        if !reasons.isEmpty { return .failure(.invalid(reasons.map(\.description))) }
        let raw = w.calibration?.controllerAxlesKg ?? w.axles.map(\.kg)
        guard raw.count == vehicle.axlesKg.count else { return .failure(.axleCount(raw.count, expected: vehicle.axlesKg.count)) }
        let config = AxleConfiguration(groups: w.groups)
        if let expected = vehicle.configuration, expected != config { return .failure(.configuration(config, expected: expected)) }
        let gross = w.calibration?.controllerGrossOrSumKg ?? w.grossKg
        guard abs(gross - vehicle.grossKg) * 5 <= vehicle.grossKg else { return .failure(.grossFar(gross, reference: vehicle.grossKg)) }
        if vehicle.configuration == nil { vehicle.configuration = config }
        let pass = ReferencePass(
            controllerSeq: w.seq, speedKmh: w.speedKmh, controllerAxlesKg: raw, controllerGrossKg: gross,
            appliedFactor: w.calibration?.factor ?? .one, configuration: config)
        passes.append(pass)
        return .success(pass)
    }

    /// Takes back the last pass (the technician saw it was not the reference vehicle).
    @discardableResult
    public mutating func dropLast() -> ReferencePass? { passes.popLast() }

    /// Mean and sample standard deviation of the gross errors, in percent; nil without passes.
    public var errorStatistics: (mean: Double, spread: Double)? {
        let e = passes.map { Double($0.grossErrorHundredths(vehicle)) / 100 }
        return Self.meanAndSpread(e)
    }

    static func meanAndSpread(_ x: [Double]) -> (mean: Double, spread: Double)? {
        guard !x.isEmpty else { return nil }
        let mean = x.reduce(0, +) / Double(x.count)
        guard x.count > 1 else { return (mean, 0) }
        let v = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.count - 1)
        return (mean, v.squareRoot())
    }

    /// Factors that make the controller's gross, corrected, equal the static gross on average:
    /// the mean of static ÷ controller over the passes, with its standard error. One for the lane
    /// (or the vehicle's axle configuration) over all speeds, and one per speed band that has at
    /// least `minimumPassesPerBand` passes.
    public func proposal(_ profile: CalibrationProfile) -> [ProposedFactor] {
        guard !passes.isEmpty else { return [] }
        let axles = perConfiguration ? vehicle.configuration : nil
        func propose(_ cell: CalibrationCell, _ ps: [ReferencePass]) -> ProposedFactor {
            let ratios = ps.map { Double(vehicle.grossKg) / Double($0.controllerGrossKg) }
            let (mean, spread) = Self.meanAndSpread(ratios)!
            let se = ps.count > 1 ? Int((spread / Double(ps.count).squareRoot() * 10_000).rounded()) : nil
            return ProposedFactor(cell: cell, old: profile.factors[cell], new: CalibrationFactor(tenThousandths: Int((mean * 10_000).rounded())), standardError: se, passes: ps.count)
        }
        var out = [propose(CalibrationCell(lane: lane, axles: axles), passes)]
        let bands = Dictionary(grouping: passes) { profile.bandStart($0.speedKmh) }
        for (band, ps) in bands.sorted(by: { $0.key < $1.key }) where ps.count >= Self.minimumPassesPerBand {
            out.append(propose(CalibrationCell(lane: lane, speedFromKmh: band, axles: axles), ps))
        }
        return out
    }
}
