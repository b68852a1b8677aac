import PropertyBased
import Testing
@testable import WeighpointCore

@Suite struct CalibrationTests {
    @Test func factorsParseAndPrintWithFourDecimals() {
        #expect(CalibrationFactor(parsing: "0.987")?.tenThousandths == 9870)
        #expect(CalibrationFactor(parsing: "1")?.tenThousandths == 10_000)
        #expect(CalibrationFactor(parsing: "1.0005")?.description == "1.0005")
        // A long number once overflowed on its way to ten-thousandths (found by Scripts/fuzz-console).
        for bad in ["", ".9", "1.", "0.98765", "-1", "+1", "1,0", "１.0", "0x1", "1.0e0", "5555555555555555555555", "922337203685477.5807", "100.0"] {
            #expect(CalibrationFactor(parsing: bad) == nil, "\(bad)")
        }
        #expect(CalibrationFactor(tenThousandths: 9870).change(from: .one) == "-1.30 %")
        #expect(CalibrationFactor(tenThousandths: 10_030).change(from: CalibrationFactor(tenThousandths: 10_000)) == "+0.30 %")
    }

    @Test func applyRoundsHalfAwayFromZero() {
        let f = CalibrationFactor(tenThousandths: 9_875)
        #expect(f.apply(1_000) == 988)  // 987.5
        #expect(f.apply(9_000) == 8_888)  // 8887.5
        #expect(f.apply(-1_000) == -988)
        #expect(CalibrationFactor.one.apply(12_345) == 12_345)
    }

    @Test func theMostSpecificCellWins() {
        let c123 = AxleConfiguration(groups: [1, 2, 3])
        var p = CalibrationProfile()
        p.factors[CalibrationCell(lane: 1)] = CalibrationFactor(tenThousandths: 10_100)
        #expect(p.lookup(lane: 1, speedKmh: 44.9, axles: c123).factor.tenThousandths == 10_100)
        p.factors[CalibrationCell(lane: 1, axles: c123)] = CalibrationFactor(tenThousandths: 10_200)
        #expect(p.lookup(lane: 1, speedKmh: 44.9, axles: c123).factor.tenThousandths == 10_200)
        p.factors[CalibrationCell(lane: 1, speedFromKmh: 40)] = CalibrationFactor(tenThousandths: 10_300)
        #expect(p.lookup(lane: 1, speedKmh: 44.9, axles: c123).factor.tenThousandths == 10_300, "speed band before axle configuration")
        #expect(p.lookup(lane: 1, speedKmh: 45.0, axles: c123).factor.tenThousandths == 10_200, "45 km/h is the next band")
        p.factors[CalibrationCell(lane: 1, speedFromKmh: 40, axles: c123)] = CalibrationFactor(tenThousandths: 10_400)
        #expect(p.lookup(lane: 1, speedKmh: 40, axles: c123).factor.tenThousandths == 10_400)
        #expect(p.lookup(lane: 1, speedKmh: 40, axles: AxleConfiguration(groups: [1, 1])).factor.tenThousandths == 10_300)
        let none = p.lookup(lane: 2, speedKmh: 40, axles: c123)
        #expect(none.cell == nil && none.factor == .one, "lane 2 is uncalibrated")
        #expect(p.covering(CalibrationCell(lane: 1, speedFromKmh: 40, axles: c123)).factor.tenThousandths == 10_300)
        #expect(p.covering(CalibrationCell(lane: 1, speedFromKmh: 80)).factor.tenThousandths == 10_100)
        #expect(p.covering(CalibrationCell(lane: 1)).cell == nil)
    }

    @Test func applyingKeepsTheControllersFigures() {
        var p = CalibrationProfile()
        p.factors[CalibrationCell(lane: 1)] = CalibrationFactor(tenThousandths: 9_700)
        let w = Weighing(seq: 4, lane: 1, time: Timestamp(microseconds: 0), speedKmh: 52, body: .rigid, driveAxles: 1,
                         axles: [Axle(kg: 7_000, tyres: .single), Axle(kg: 12_000, tyres: .dual)], groups: [1, 1], reportedGrossKg: 19_000)
        let c = p.apply(to: w, profileSHA256: "abc")
        #expect(c.axles.map(\.kg) == [6_790, 11_640])
        #expect(c.reportedGrossKg == 18_430)
        #expect(c.invalidityReasons().isEmpty, "corrected gross and axle sum still agree")
        #expect(c.calibration == AppliedCalibration(factor: CalibrationFactor(tenThousandths: 9_700), cell: CalibrationCell(lane: 1), controllerAxlesKg: [7_000, 12_000], controllerGrossKg: 19_000, profileSHA256: "abc"))
        // An 18 000 kg limit: over before the correction, within after it.
        #expect(Assessor(rules: AssessmentRules()).assess(w, plates: []).decision == .overload)
        #expect(Assessor(rules: AssessmentRules()).assess(c, plates: []).decision == .overload)
        p.factors[CalibrationCell(lane: 1)] = CalibrationFactor(tenThousandths: 9_400)
        #expect(Assessor(rules: AssessmentRules()).assess(p.apply(to: w, profileSHA256: "abc"), plates: []).decision == .ok)
    }

    /// Applying a factor and the reference run's proposal are inverse: a sensor that reads
    /// `bias` heavy gets a factor that brings its mean pass back to the static gross.
    @Test func theProposalCancelsASystematicError() async {
        await propertyCheck(count: 200, input: Gen.int(in: -800...800), Gen.int(in: 3...20)) { biasHundredths, n in
            let vehicle = ReferenceVehicle(axlesKg: [6_500, 10_000, 10_000, 7_000, 7_000, 7_000])
            var run = ReferenceRun(lane: 1, vehicle: vehicle, passes: n)
            for i in 0..<n {
                let heavy = 1 + Double(biasHundredths) / 10_000
                let axles = vehicle.axlesKg.map { Axle(kg: Int((Double($0) * heavy).rounded()), tyres: .dual) }
                let w = Weighing(seq: UInt64(i), lane: 1, time: Timestamp(microseconds: 0), speedKmh: 30 + Double(i), body: .combination, driveAxles: 2, axles: axles, groups: [1, 2, 3])
                guard case .success? = run.offer(w) else {
                    Issue.record("pass \(i) refused")
                    return
                }
            }
            #expect(run.isComplete)
            let stats = run.errorStatistics!
            #expect(abs(stats.mean * 100 - Double(biasHundredths)) <= 1.5)
            let overall = run.proposal(CalibrationProfile())[0]
            #expect(overall.cell == CalibrationCell(lane: 1) && overall.passes == n)
            let corrected = overall.new.apply(vehicle.axlesKg.map { Int((Double($0) * (1 + Double(biasHundredths) / 10_000)).rounded()) }.reduce(0, +))
            #expect(abs(corrected - vehicle.grossKg) <= 6, "factor \(overall.new) leaves \(corrected) kg for \(vehicle.grossKg)")
        }
    }

    @Test func passesThatAreNotTheReferenceVehicleAreRefused() {
        var run = ReferenceRun(lane: 1, vehicle: ReferenceVehicle(axlesKg: [7_000, 11_000], configuration: AxleConfiguration(groups: [1, 1])), passes: 10)
        func w(_ lane: Int, _ axles: [Int], groups: [Int]? = nil, flags: [WeighingFlag] = []) -> Weighing {
            Weighing(seq: 1, lane: lane, time: Timestamp(microseconds: 0), speedKmh: 50, body: .rigid, driveAxles: 1,
                     axles: axles.map { Axle(kg: $0, tyres: .dual) }, groups: groups ?? axles.map { _ in 1 }, flags: flags)
        }
        #expect(run.offer(w(2, [7_000, 11_000])) == nil, "another lane is not even considered")
        #expect(run.offer(w(1, [7_000, 11_000], flags: [.straddle])) == .failure(.invalid(["straddle"])))
        #expect(run.offer(w(1, [7_000, 11_000, 9_000])) == .failure(.axleCount(3, expected: 2)))
        #expect(run.offer(w(1, [7_000, 11_000], groups: [2])) == .failure(.configuration(AxleConfiguration(groups: [2]), expected: AxleConfiguration(groups: [1, 1]))))
        #expect(run.offer(w(1, [7_000, 15_000])) == .failure(.grossFar(22_000, reference: 18_000)))
        #expect(run.passes.isEmpty)
        if case .success? = run.offer(w(1, [7_100, 11_100])) {} else { Issue.record("the reference vehicle was refused") }
        #expect(run.passes.count == 1)
        #expect(run.dropLast()?.controllerGrossKg == 18_200)
    }
}
