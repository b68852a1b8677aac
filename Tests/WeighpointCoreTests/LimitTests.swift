import Testing
@testable import WeighpointCore

@Suite struct Article3TableTests {
    @Test(arguments: [
        (VehicleBody.rigid, 2, 1, Int?.some(18_000)),
        (.rigid, 3, 1, 25_000),
        (.rigid, 4, 2, 31_000),
        (.combination, 3, 1, 27_000),
        (.combination, 4, 1, 36_000),
        (.combination, 5, 1, 43_000),
        (.combination, 6, 2, 49_000),
        (.combination, 7, 2, 49_000),
        (.combination, 6, 1, 46_000),
        (.combination, 8, 1, 46_000),
        (.rigid, 5, 2, nil),
        (.rigid, 1, 1, nil),
        (.combination, 2, 1, nil),
    ])
    func tableRow(body: VehicleBody, axles: Int, drive: Int, limit: Int?) {
        #expect(Article3.tableLimitKg(body: body, axles: axles, driveAxles: drive) == limit)
    }

    @Test func unknownDriveAxlesGetTheHigherSixAxleLimit() {
        #expect(Article3.tableLimitKg(body: .combination, axles: 6, driveAxles: nil) == 49_000)
    }

    @Test func singleTyresInATandemOrTridemLowerTheLimitPerAxle() {
        // Steer single (not counted: first axle), tandem of single tyres: −2 × 3 000.
        let w = weighing(axles: [single(6000), single(8000), single(8000)], groups: [1, 2])
        #expect(Article3.limit(for: w)?.kg == 19_000)
        #expect(Article3.limit(for: w)?.basis.contains("[2, 3]") == true)
    }

    @Test func singleTyresOnASingleAxleGroupDoNotLowerTheLimit() {
        let w = weighing(axles: [single(6000), single(8000), single(8000)], groups: [1, 1, 1])
        #expect(Article3.limit(for: w)?.kg == 25_000)
    }

    @Test func wideTyresDoNotLowerTheLimit() {
        let w = weighing(body: .combination, axles: [single(6000), dual(9000), Axle(kg: 8000, tyres: .wide), Axle(kg: 8000, tyres: .wide), Axle(kg: 8000, tyres: .wide)], groups: [1, 1, 3])
        #expect(Article3.limit(for: w)?.kg == 43_000)
    }

    @Test func mixedTridem() {
        let w = weighing(body: .combination, drive: 2, axles: [single(7000), dual(9000), dual(9000), single(8000), dual(8000), single(8000)], groups: [1, 2, 3])
        #expect(Article3.limit(for: w)?.kg == 49_000 - 6_000)
        #expect(Article3.limit(for: w)?.rule == "JTMO-2016-62-art3")
    }

    @Test func noLimitWhenGroupsDoNotAddUp() {
        #expect(Article3.limit(for: weighing(axles: [single(6000), dual(9000)], groups: [1, 2])) == nil)
    }
}

@Suite struct ToleranceTests {
    @Test func percentIsRoundedUpInTheVehiclesFavour() {
        #expect(Tolerance(percentHundredths: 250, kg: 0).deductionKg(grossKg: 52_500) == 1313)
        #expect(Tolerance(percentHundredths: 500, kg: 0).deductionKg(grossKg: 50_000) == 2500)
        #expect(Tolerance(percentHundredths: 10, kg: 0).deductionKg(grossKg: 50_000) == 50)
        #expect(Tolerance(percentHundredths: 0, kg: 300).deductionKg(grossKg: 50_000) == 300)
        #expect(Tolerance(percentHundredths: 100, kg: 200).deductionKg(grossKg: 10_001) == 301)
        #expect(Tolerance.zero.deductionKg(grossKg: 49_000) == 0)
    }

    @Test func describesItself() {
        #expect(Tolerance(percentHundredths: 250, kg: 100).description == "2.5% + 100 kg")
        #expect(Tolerance(percentHundredths: 5, kg: 0).description == "0.05% + 0 kg")
        #expect(Tolerance(percentHundredths: 500, kg: 0).description == "5% + 0 kg")
    }
}

@Suite struct AxleLoadTests {
    @Test func overloadedGroupsAreReported() {
        let w = weighing(body: .combination, drive: 1, axles: [single(7500), dual(12_000), dual(9500), dual(9000), dual(8000), dual(8000)], groups: [1, 1, 2, 2])
        let f = AxleLoadLimits().findings(for: w)
        #expect(f.map(\.group) == [1, 2, 3])
        #expect(f[0].limitKg == 7000 && f[0].overKg == 500)
        #expect(f[1].limitKg == 11_500, "axle 2 is the drive axle")
        #expect(f[2].axles == [3, 4] && f[2].kg == 18_500 && f[2].limitKg == 18_000)
    }

    @Test func nonDrivenSingleDualAxleHasTheLowerLimit() {
        let w = weighing(body: .combination, drive: 1, axles: [single(6000), dual(11_000), dual(10_500)], groups: [1, 1, 1])
        let f = AxleLoadLimits().findings(for: w)
        #expect(f.map(\.axles) == [[3]])
        #expect(f.first?.limitKg == 10_000)
    }
}

@Suite struct TimestampTests {
    @Test func roundTripsRFC3339() {
        let t = Timestamp(rfc3339: "2026-11-20T08:00:00.800Z")!
        #expect(t.description == "2026-11-20T08:00:00.800Z")
        #expect(Timestamp(rfc3339: "2026-11-20T16:00:00.800+08:00") == t)
        #expect(Timestamp(rfc3339: "1970-01-01T00:00:00Z")?.microseconds == 0)
        #expect(Timestamp(rfc3339: "2024-02-29T23:59:59.123456Z")?.rfc3339(fractionDigits: 6) == "2024-02-29T23:59:59.123456Z")
        #expect(Timestamp(microseconds: -1).description == "1969-12-31T23:59:59.999Z")
    }

    @Test func beijingTimeIsUTCPlusEightAcrossMidnight() {
        let t = Timestamp(rfc3339: "2026-12-31T16:40:02.800Z")!
        #expect(t.beijingTime() == "2027-01-01 00:40:02")
        #expect(t.beijingTime(fractionDigits: 3) == "2027-01-01 00:40:02.800")
    }

    @Test(arguments: ["", "2026-11-20", "2026-11-20T08:00:00", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-11-20T08:00:00.Z", "2026-11-20T08:00:00Zjunk", "2026-11-20T25:00:00Z"])
    func rejectsMalformedTimes(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }
}
