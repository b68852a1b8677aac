import Testing
@testable import WeighpointCore

let sixAxle = [single(7000), dual(9000), dual(9000), dual(8600), dual(8600), dual(8600)]  // 50 800 kg

@Suite struct AssessmentTests {
    let assessor = Assessor(rules: AssessmentRules())

    @Test func atTheLimitIsOk() {
        let a = assessor.assess(weighing(axles: [single(7000), dual(11_000)]), plates: [])
        #expect(a.decision == .ok)
        #expect(a.overloadKg == 0)
        #expect(a.overloadRatio10k == 0)
        #expect(a.limit?.rule == Article3.rule)
    }

    @Test func oneKilogramOverIsAnOverload() {
        let a = assessor.assess(weighing(axles: [single(7001), dual(11_000)]), plates: ["苏A12345"])
        #expect(a.decision == .overload)
        #expect(a.overloadKg == 1)
        #expect(a.overloadRatio10k == 1)  // 1/18000 = 0.0000556 → 0.0001
    }

    @Test func toleranceIsDeductedBeforeComparing() {
        let rules = AssessmentRules(tolerance: Tolerance(percentHundredths: 500, kg: 0))
        let w = weighing(body: .combination, drive: 2, axles: sixAxle, groups: [1, 2, 3])
        let a = Assessor(rules: rules).assess(w, plates: [])
        #expect(a.toleranceKg == 2540)
        #expect(a.overloadKg == 50_800 - 2540 - 49_000)
        #expect(a.decision == .ok)
        #expect(a.tolerance == Tolerance(percentHundredths: 500, kg: 0))
    }

    @Test func ratioIsRoundedToFourDecimals() {
        #expect(roundedRatio10k(2500, 46_000) == 543)
        #expect(roundedRatio10k(-500, 18_000) == -278)
        #expect(roundedRatio10k(1800, 49_000) == 367)
        #expect(roundedRatio10k(5, 100_000) == 1)  // half away from zero
        #expect(roundedRatio10k(-5, 100_000) == -1)
    }

    @Test(arguments: WeighingFlag.known)
    func everyFlagInvalidatesAndNamesItself(flag: WeighingFlag) {
        let a = assessor.assess(weighing(body: .combination, drive: 2, axles: sixAxle, groups: [1, 2, 3], flags: [flag]), plates: ["苏A12345"])
        #expect(a.decision == .invalid)
        #expect(a.overloadKg == nil && a.toleranceKg == nil)
        #expect(a.reasons == [flag.rawValue])
    }

    @Test func vendorFlagsInvalidateToo() {
        let a = assessor.assess(weighing(axles: [single(7000), dual(9000)], flags: [WeighingFlag(rawValue: "vendor_x")]), plates: [])
        #expect(a.decision == .invalid && a.reasons == ["vendor_x"])
    }

    @Test func implausibleValuesInvalidateWithAReason() {
        func reasons(_ w: Weighing) -> String { assessor.assess(w, plates: []).reasons.joined(separator: "; ") }
        #expect(reasons(weighing(axles: [single(7000), dual(-10)])).contains("negative_axle_load (axle 2: -10 kg)"))
        #expect(reasons(weighing(speed: 0.4, axles: [single(7000), dual(9000)])).contains("speed_out_of_range"))
        #expect(reasons(weighing(speed: 101, axles: [single(7000), dual(9000)])).contains("speed_out_of_range"))
        #expect(reasons(weighing(axles: [single(7000), dual(9000)], groups: [1, 2])).contains("groups_mismatch"))
        #expect(reasons(weighing(axles: [single(7000)])).contains("axle_count"))
        var w = weighing(axles: [single(7000), dual(9000)])
        w.reportedGrossKg = 16_500
        #expect(reasons(w).contains("gross_mismatch (reported 16500 kg, axle sum 16000 kg)"))
        w.reportedGrossKg = 16_080
        #expect(assessor.assess(w, plates: []).decision == .ok, "within rounding of the controller")
        #expect(assessor.assess(w, plates: []).grossKg == 16_080)
    }

    @Test func vehicleWithoutAnArticle3LimitGoesToReview() {
        let a = assessor.assess(weighing(axles: [single(7000), dual(9000), dual(9000), dual(9000), dual(9000)], groups: [1, 2, 2]), plates: [])
        #expect(a.decision == .review)
        #expect(a.limit == nil)
        #expect(a.reasons.first?.contains("no_limit") == true)
    }

    @Test func findingsNeverChangeTheDecision() {
        let rules = AssessmentRules(axleLoadLimits: AxleLoadLimits())
        let a = Assessor(rules: rules).assess(weighing(axles: [single(7500), dual(10_000)]), plates: [])
        #expect(a.decision == .ok)
        #expect(a.axleFindings.count == 1)
    }
}

@Suite struct PermitTests {
    let window = (Timestamp(rfc3339: "2026-11-01T00:00:00Z")!, Timestamp(rfc3339: "2026-12-01T00:00:00Z")!)
    var overloaded: Weighing { weighing(body: .combination, drive: 2, axles: sixAxle, groups: [1, 2, 3]) }

    func assess(permit plate: String, max: Int = 60_000, from: Timestamp? = nil, until: Timestamp? = nil, read: [String]) -> OverloadAssessment {
        let p = Permit(plate: plate, validFrom: from ?? window.0, validUntil: until ?? window.1, maxGrossKg: max)
        return Assessor(rules: AssessmentRules(), permits: PermitBook([p])).assess(overloaded, plates: read)
    }

    @Test func exactValidCoveringPermitPermits() {
        let a = assess(permit: "苏A12345", read: ["苏A12345"])
        #expect(a.decision == .permitted)
        #expect(a.permit?.kind == .exact)
        #expect(a.overloadKg == 1800, "the overload is still stated")
    }

    @Test func lookalikeOrEditMatchGoesToReview() {
        #expect(assess(permit: "苏A12345", read: ["苏A1234S"]).decision == .review)
        #expect(assess(permit: "苏A12345", read: ["苏A1234"]).decision == .review)
        #expect(assess(permit: "苏A12345", read: ["苏A1234"]).reasons.first?.contains("edit") == true)
    }

    @Test func permitNotCoveringTheGrossDoesNotHelp() {
        #expect(assess(permit: "苏A12345", max: 50_000, read: ["苏A12345"]).decision == .overload)
        #expect(assess(permit: "苏A12345", max: 50_800, read: ["苏A12345"]).decision == .permitted)
    }

    @Test func permitOutsideItsValidityDoesNotHelp() {
        #expect(assess(permit: "苏A12345", until: t0, read: ["苏A12345"]).decision == .overload, "valid_until is exclusive")
        #expect(assess(permit: "苏A12345", from: t0.adding(microseconds: 1), read: ["苏A12345"]).decision == .overload)
        #expect(assess(permit: "苏A12345", from: t0, read: ["苏A12345"]).decision == .permitted)
    }

    @Test func unrelatedPlateOrNoPlateIsAnOverload() {
        #expect(assess(permit: "苏A12345", read: ["京N99999"]).decision == .overload)
        #expect(assess(permit: "苏A12345", read: []).decision == .overload)
    }

    @Test func trailerPlateCanCarryThePermit() {
        #expect(assess(permit: "苏E1234挂", read: ["苏A99999", "苏E1234挂"]).decision == .permitted)
    }

    @Test func exactBeatsLookalikeWhenBothExist() {
        let ps = [Permit(plate: "苏A1234S", validFrom: window.0, validUntil: window.1, maxGrossKg: 60_000),
                  Permit(plate: "苏A12345", validFrom: window.0, validUntil: window.1, maxGrossKg: 55_000)]
        let a = Assessor(rules: AssessmentRules(), permits: PermitBook(ps)).assess(overloaded, plates: ["苏A12345"])
        #expect(a.decision == .permitted)
        #expect(a.permit?.permit.plate == "苏A12345")
    }
}
