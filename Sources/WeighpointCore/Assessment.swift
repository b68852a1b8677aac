/// What the unit concludes about one weighing (Docs/decision-core.md).
public enum Decision: String, Sendable, CaseIterable {
    /// At or under the limit after tolerance.
    case ok
    /// Over the limit after tolerance: a suspected violation.
    case overload
    /// Over the limit, but a valid permit whose plate matched exactly covers the gross.
    case permitted
    /// Needs a person: over the limit and a permit matched only through look-alike or one-edit
    /// matching, or no Article 3 limit exists for the vehicle.
    case review
    /// The weighing is flagged or implausible; no overload is claimed.
    case invalid
}

/// Station rules the assessment applies.
public struct AssessmentRules: Sendable {
    public var tolerance: Tolerance
    public var plausibility: PlausibilityRules
    /// GB 1589 axle-load findings; nil when the deployment does not report them.
    public var axleLoadLimits: AxleLoadLimits?

    public init(tolerance: Tolerance = .zero, plausibility: PlausibilityRules = PlausibilityRules(), axleLoadLimits: AxleLoadLimits? = nil) {
        self.tolerance = tolerance
        self.plausibility = plausibility
        self.axleLoadLimits = axleLoadLimits
    }
}

/// The assessment of one weighing: decision, the limit and rule, tolerance, and why.
public struct OverloadAssessment: Hashable, Sendable {
    public var decision: Decision
    public var grossKg: Int
    public var limit: GrossLimit?
    /// Deduction applied for measurement error; nil when no comparison was made.
    public var toleranceKg: Int?
    public var tolerance: Tolerance
    /// gross − tolerance − limit; may be ≤ 0. Nil for invalid weighings (no overload claimed).
    public var overloadKg: Int?
    /// overloadKg / limit in ten-thousandths, rounded half away from zero (543 = 0.0543).
    public var overloadRatio10k: Int?
    public var permit: PermitUse?
    /// Invalidity reasons, or what sends the case to review.
    public var reasons: [String]
    /// GB 1589 axle-group findings (never change the decision).
    public var axleFindings: [AxleLoadFinding]
}

/// Applies the legal thresholds to weighings.
public struct Assessor: Sendable {
    public var rules: AssessmentRules
    public var permits: PermitBook

    public init(rules: AssessmentRules, permits: PermitBook = PermitBook([])) {
        self.rules = rules
        self.permits = permits
    }

    /// Assesses `w`, whose associated plates (front first, then trailer) are `plates`.
    public func assess(_ w: Weighing, plates: [String]) -> OverloadAssessment {
        let gross = w.grossKg
        let limit = Article3.limit(for: w)
        let findings = rules.axleLoadLimits?.findings(for: w) ?? []
        var a = OverloadAssessment(
            decision: .ok, grossKg: gross, limit: limit, toleranceKg: nil, tolerance: rules.tolerance,
            overloadKg: nil, overloadRatio10k: nil, permit: nil, reasons: [], axleFindings: findings)

        let invalid = w.invalidityReasons(rules.plausibility)
        if !invalid.isEmpty {
            a.decision = .invalid
            a.reasons = invalid.map(\.description)
            return a
        }
        guard let limit else {
            a.decision = .review
            a.reasons = ["no_limit (Article 3 names no limit for a \(w.axles.count)-axle \(w.body.rawValue) vehicle)"]
            return a
        }
        let tol = rules.tolerance.deductionKg(grossKg: gross)
        let over = gross - tol - limit.kg
        a.toleranceKg = tol
        a.overloadKg = over
        a.overloadRatio10k = roundedRatio10k(over, limit.kg)
        guard over > 0 else {
            a.decision = .ok
            return a
        }
        // A permit must cover the mass that the assessment holds against the vehicle.
        if let use = permits.bestCovering(plates: plates, at: w.time, massKg: gross - tol) {
            a.permit = use
            if use.kind == .exact {
                a.decision = .permitted
            } else {
                a.decision = .review
                a.reasons = ["permit \(use.permit.plate) matched plate \(use.matchedPlate) only by \(use.kind.rawValue)"]
            }
            return a
        }
        a.decision = .overload
        return a
    }
}

/// n / d in ten-thousandths, rounded half away from zero, in integers (no binary fractions).
func roundedRatio10k(_ n: Int, _ d: Int) -> Int {
    guard d != 0 else { return 0 }
    let num = n * 10_000
    let q = num / d
    let r = num % d
    if abs(r) * 2 >= abs(d) { return q + ((num < 0) != (d < 0) ? -1 : 1) }
    return q
}
