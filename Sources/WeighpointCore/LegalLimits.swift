/// Gross-mass limits of 《超限运输车辆行驶公路管理规定》(交通运输部令2016年第62号) Article 3.
public enum Article3 {
    /// The rule name every assessment carries.
    public static let rule = "JTMO-2016-62-art3"

    /// Reduction per single-tyred axle in a two- or three-axle group (Article 3 (二)).
    public static let singleTyreReductionKg = 3_000

    /// The table limit for a body and axle count; nil when Article 3 names no such vehicle
    /// (a rigid truck with 5+ axles, a combination with fewer than 3).
    /// `driveAxles == 1` selects the 46 000 kg limit of 6+-axle combinations whose tractor has a
    /// single drive axle; an unknown drive-axle count gets the higher limit (the vehicle's benefit).
    public static func tableLimitKg(body: VehicleBody, axles: Int, driveAxles: Int?) -> Int? {
        switch (body, axles) {
        case (.rigid, 2): 18_000
        case (.rigid, 3): 25_000
        case (.rigid, 4): 31_000
        case (.combination, 3): 27_000
        case (.combination, 4): 36_000
        case (.combination, 5): 43_000
        case (.combination, let n) where n >= 6: driveAxles == 1 ? 46_000 : 49_000
        default: nil
        }
    }

    /// The limit that applies to `w`, with the reasoning for people; nil when no limit applies
    /// or the axle groups do not add up.
    ///
    /// Per Docs/decision-core.md: the table limit, minus 3 000 kg for each axle after the first that has
    /// single tyres and stands in a group of two or three axles (wide tyres do not count).
    public static func limit(for w: Weighing) -> GrossLimit? {
        guard let table = tableLimitKg(body: w.body, axles: w.axles.count, driveAxles: w.driveAxles),
            let groupSize = w.groupSizeOfAxle
        else { return nil }
        var reducedAxles: [Int] = []
        for i in w.axles.indices.dropFirst() where w.axles[i].tyres == .single && (groupSize[i] == 2 || groupSize[i] == 3) {
            reducedAxles.append(i + 1)
        }
        let kg = table - singleTyreReductionKg * reducedAxles.count
        var basis = "\(w.axles.count)-axle \(w.body == .rigid ? "truck" : "combination")"
        if w.body == .combination && w.axles.count >= 6 {
            basis += w.driveAxles == 1 ? ", single drive axle" : ""
        }
        basis += ": \(table) kg"
        if !reducedAxles.isEmpty {
            basis += ", − \(singleTyreReductionKg) kg × \(reducedAxles.count) single-tyred axle(s) \(reducedAxles) in groups"
        }
        return GrossLimit(kg: kg, rule: rule, basis: basis)
    }
}

/// A gross-mass limit and where it comes from.
public struct GrossLimit: Hashable, Sendable {
    public let kg: Int
    /// The rule that produced it, e.g. `JTMO-2016-62-art3`.
    public let rule: String
    /// How the limit was derived, for people reading the record.
    public let basis: String
}

/// The deduction for measurement error applied before comparing with the limit: a percentage of
/// the measured gross plus a fixed mass. No national rule fixes it, so it is deployment
/// configuration and every record names it.
public struct Tolerance: Hashable, Sendable, CustomStringConvertible {
    /// Percent of the measured gross, in hundredths of a percent (250 = 2.5 %).
    public var percentHundredths: Int
    public var kg: Int

    public init(percentHundredths: Int = 0, kg: Int = 0) {
        self.percentHundredths = percentHundredths
        self.kg = kg
    }

    public static let zero = Tolerance()

    /// The deduction for `grossKg`; the percentage part is rounded up (in the vehicle's favour).
    public func deductionKg(grossKg: Int) -> Int {
        let product = max(grossKg, 0) * percentHundredths
        return (product + 9_999) / 10_000 + kg
    }

    public var description: String {
        let whole = percentHundredths / 100
        let frac = percentHundredths % 100
        let pct = frac == 0 ? "\(whole)" : (frac % 10 == 0 ? "\(whole).\(frac / 10)" : "\(whole).\(frac < 10 ? "0" : "")\(frac)")
        return "\(pct)% + \(kg) kg"
    }
}

/// Axle-load limits of GB 1589-2016 §4.3. The numbers are marked unverified in DESIGN.md, so they
/// are configuration with these defaults. Findings never change the decision.
public struct AxleLoadLimits: Hashable, Sendable {
    public var singleAxleSingleTyreKg = 7_000
    public var singleAxleDualTyreKg = 10_000
    public var singleDriveAxleDualTyreKg = 11_500
    public var tandemKg = 18_000
    public var tridemKg = 24_000

    public static let rule = "GB-1589-2016-4.3"

    public init() {}

    /// Axle groups over their limit. Drive axles are taken to be the axles right after the
    /// steer axle (`driveAxles` of them), as on tractors and rigid trucks.
    public func findings(for w: Weighing) -> [AxleLoadFinding] {
        guard w.groupSizeOfAxle != nil else { return [] }
        let drive = Set((1..<(1 + (w.driveAxles ?? 1))).map { $0 })
        var out: [AxleLoadFinding] = []
        var start = 0
        for (g, size) in w.groups.enumerated() {
            let axles = Array(w.axles[start..<(start + size)])
            let load = axles.reduce(0) { $0 + $1.kg }
            let limit: Int?
            switch size {
            case 1:
                if axles[0].tyres == .single {
                    limit = singleAxleSingleTyreKg
                } else {
                    limit = drive.contains(start) ? singleDriveAxleDualTyreKg : singleAxleDualTyreKg
                }
            case 2: limit = tandemKg
            case 3: limit = tridemKg
            default: limit = nil
            }
            if let limit, load > limit {
                out.append(AxleLoadFinding(group: g + 1, axles: Array((start + 1)...(start + size)), kg: load, limitKg: limit))
            }
            start += size
        }
        return out
    }
}

/// An axle group over its GB 1589 load limit.
public struct AxleLoadFinding: Hashable, Sendable {
    /// Group number from the front, from 1.
    public let group: Int
    /// Axle numbers from the front, from 1.
    public let axles: [Int]
    public let kg: Int
    public let limitKg: Int
    public var overKg: Int { kg - limitKg }
}
