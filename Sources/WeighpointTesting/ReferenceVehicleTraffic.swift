import Foundation
import WeighpointCore
import WeighpointModbus

/// How a simulated WIM sensor errs, so that calibration has something to correct: a fixed bias,
/// a part that grows with speed (around 50 km/h), and random scatter from the vehicle's dynamics.
/// Loads come out in the controller's 10 kg steps.
public struct SensorErrorModel: Sendable {
    public var biasPercent: Double
    public var slopePercentPer10Kmh: Double
    /// Standard deviation of the per-pass scatter of each axle, percent.
    public var scatterPercent: Double

    public init(biasPercent: Double = 0, slopePercentPer10Kmh: Double = 0, scatterPercent: Double = 0) {
        self.biasPercent = biasPercent
        self.slopePercentPer10Kmh = slopePercentPer10Kmh
        self.scatterPercent = scatterPercent
    }

    public var isExact: Bool { biasPercent == 0 && slopePercentPer10Kmh == 0 && scatterPercent == 0 }

    /// The systematic error at a speed, as a fraction.
    public func systematic(speedKmh: Double) -> Double { (biasPercent + slopePercentPer10Kmh * (speedKmh - 50) / 10) / 100 }

    /// What the sensor reports for `r` (true loads): each axle with the systematic error and its
    /// own scatter; the gross is the sum, as the controller reports it.
    public func measure(_ r: WIMRecord, rng: inout SplitMix64) -> WIMRecord {
        guard !isExact else { return r }
        var out = r
        let sys = systematic(speedKmh: r.speedKmh)
        out.axleLoadsKg = r.axleLoadsKg.map { kg in
            let v = Double(kg) * (1 + sys + scatterPercent / 100 * Self.gaussian(&rng))
            return Int((v / 10).rounded()) * 10
        }
        out.grossKg = out.axleLoadsKg.reduce(0, +)
        return out
    }

    /// A standard normal deviate (Box–Muller).
    static func gaussian(_ rng: inout SplitMix64) -> Double {
        let u1 = max(Double(rng.next() >> 11) / Double(1 << 53), 1e-12)
        let u2 = Double(rng.next() >> 11) / Double(1 << 53)
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

/// The calibration technician's reference vehicle on the simulated controller: a truck of known
/// static axle loads driven over one lane again and again, at speeds cycling through the bands a
/// calibration covers.
public struct ReferenceVehicleTraffic: Sendable {
    public var axlesKg: [Int]
    public var groups: [Int]
    public var lane: Int
    public var speedsKmh: [Double] = [30, 40, 50, 60, 70]
    private var passes = 0

    public init(axlesKg: [Int], groups: [Int], lane: Int) {
        self.axlesKg = axlesKg
        self.groups = groups
        self.lane = lane
    }

    /// The next pass (true loads), first axle on the sensor at `time`; the speed is the next of
    /// `speedsKmh` plus up to ±2 km/h, staying in its 5 km/h band.
    public mutating func pass(sequence: UInt64, at time: Timestamp, rng: inout SplitMix64) -> WIMRecord {
        let base = speedsKmh[passes % speedsKmh.count]
        passes += 1
        let speed = ((base + 0.5 + Double(rng.next() % 300) / 100) * 100).rounded() / 100
        let combination = groups.count > 2 || axlesKg.count >= 5
        let groupTypes: [GroupType?] = groups.indices.map { i in i == 0 ? .steer : i == 1 ? .drive : .trailer }
        // 1.35 m between the axles of a group, 4 m between groups.
        let groupOfAxle = groups.enumerated().flatMap { g, n in Array(repeating: g, count: n) }
        let spacings = (0..<max(axlesKg.count - 1, 0)).map { i in i + 1 < groupOfAxle.count && groupOfAxle[i] == groupOfAxle[i + 1] ? 1_350 : 4_000 }
        return WIMRecord(
            sequence: sequence, time: time, lane: lane, speedKmh: speed, axleCount: axlesKg.count, grossKg: axlesKg.reduce(0, +),
            lengthMm: combination ? 16_500 : 10_000, body: combination ? .combination : .rigid, driveAxles: groups.count > 1 ? groups[1] : 1,
            axleLoadsKg: axlesKg, tyres: axlesKg.indices.map { $0 == 0 ? .single : .dual }, groups: groups, groupTypes: groupTypes,
            spacingsMm: spacings)
    }
}
