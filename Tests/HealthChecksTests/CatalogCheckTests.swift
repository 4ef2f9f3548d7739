import Foundation
import HealthChecks
import TestSupport
import Testing

/// `health`'s `route_catalog` readiness check: the router's files load, or the reason names
/// the file, the action and the field.
@Suite struct CatalogCheckTests {
    let shipped = TestPaths.packageRoot + "/config/routing"

    @Test func theShippedCatalogIsReady() async {
        let results = await Readiness.run([.routeCatalog(environment: [
            "ROUTE_CATALOG": shipped + "/catalog.yaml", "ROUTE_RULES": shipped + "/rules.yaml", "ROUTE_SETTINGS": shipped + "/router.yaml",
        ], timeout: .seconds(60))])
        #expect(results[0].name == "route_catalog")
        #expect(results[0].ok, "\(results[0].reason ?? "")")
    }

    @Test func aBrokenCatalogIsNotReadyAndSaysWhere() async throws {
        let dir = TestPaths.temporaryDirectory("catalog-check")
        try """
        version: 1
        domains: {leave: Leave}
        actions:
          - id: leave.request
            domain: leave
            intent_type: create
            title: request leave
            seeds: []
        """.write(toFile: dir + "/catalog.yaml", atomically: true, encoding: .utf8)
        let results = await Readiness.run([.routeCatalog(environment: [
            "ROUTE_CATALOG": dir + "/catalog.yaml", "ROUTE_RULES": "", "ROUTE_SETTINGS": "",
        ], timeout: .seconds(60))])
        #expect(!results[0].ok)
        let reason = results[0].reason ?? ""
        #expect(reason.contains(dir + "/catalog.yaml") && reason.contains("leave.request") && reason.contains("seeds"), "\(reason)")
    }

    @Test func aMissingCatalogIsNotReady() async {
        let results = await Readiness.run([.routeCatalog(environment: ["ROUTE_CATALOG": "/nonexistent/catalog.yaml"], timeout: .seconds(60))])
        #expect(!results[0].ok)
        #expect(results[0].reason?.contains("/nonexistent/catalog.yaml") == true, "\(results[0].reason ?? "")")
    }
}

@Suite struct GenerationCheckTests {
    let shipped = TestPaths.packageRoot + "/config/generation"

    @Test func theShippedGenerationConfigIsReadyWithoutAnyKey() async {
        let results = await Readiness.run([.generationConfig(environment: [
            "GENERATION_PROVIDERS": shipped + "/providers.yaml", "GENERATION_SETTINGS": shipped + "/generation.yaml",
            "GENERATION_PROMPTS": shipped + "/prompts.yaml",
        ], timeout: .seconds(30))])
        #expect(results[0].name == "generation_config")
        #expect(results[0].ok, "\(results[0].reason ?? "")")
    }

    @Test func aBrokenProvidersFileIsNotReadyAndSaysWhere() async throws {
        let dir = TestPaths.temporaryDirectory("generation-check")
        try "providers:\n  openai:\n    api: carrier-pigeon\n".write(toFile: dir + "/providers.yaml", atomically: true, encoding: .utf8)
        let results = await Readiness.run([.generationConfig(environment: [
            "GENERATION_PROVIDERS": dir + "/providers.yaml", "GENERATION_SETTINGS": "", "GENERATION_PROMPTS": shipped + "/prompts.yaml",
        ], timeout: .seconds(30))])
        #expect(!results[0].ok)
        let reason = results[0].reason ?? ""
        #expect(reason.contains("providers.yaml") && reason.contains("openai"), "\(reason)")
    }
}
