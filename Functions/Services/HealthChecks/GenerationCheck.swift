import Generation

extension ReadinessCheck {
    /// The generation files (`GENERATION_PROVIDERS`, `GENERATION_SETTINGS`, `GENERATION_PROMPTS`,
    /// defaults under `config/generation/`) load and validate, with the keys substituted from the
    /// environment as `generate` does at start. No provider enabled is ready (answers are then
    /// extractive); a file `generate` would refuse to start with is not, and says why.
    package static func generationConfig(environment: [String: String], timeout: Duration = .seconds(2)) -> ReadinessCheck {
        ReadinessCheck("generation_config", timeout: timeout) {
            let paths = GenerationConfigurationPaths.fromEnvironment(environment)
            do {
                _ = try GenerationConfiguration.load(paths, environment: environment)
            } catch {
                throw CheckFailure("\(error)")
            }
        }
    }
}
