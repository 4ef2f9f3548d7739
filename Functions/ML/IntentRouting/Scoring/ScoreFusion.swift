/// Combines the three scores of an action into its final score:
///
///     w = defaults, then the action's domain override, then its intent type override,
///         then the request language's override
///         (field by field: an override sets only the weights it names)
///     w.rule = 0 when the action has no rule (its evidence is embeddings and overlap alone)
///     w /= (w.rule + w.embedding + w.lexical)
///     final = w.rule * rule + w.embedding * embed + w.lexical * lexical
///           + pattern_bonus                           if one of its patterns fired
///           - negative_penalty * strongest negative   if a negative keyword fired
///     final = clamp(final, 0, 1)
///
/// Intent overrides win over domain ones because they say how to decide ("cancel needs
/// precision, trust the rules"), which holds in every domain. Language comes last because it
/// says how far the embedding model can be trusted at all.
package struct ScoreFusion: Sendable, Hashable {
    package let settings: FusionSettings

    package init(settings: FusionSettings) { self.settings = settings }

    /// The normalised weights for an action.
    package func weights(domain: String, intentType: String, language: RequestLanguage? = nil, hasRule: Bool) -> FusionWeights {
        var w = settings.weights
        if let o = settings.domainWeights[domain] { w = o.applied(to: w) }
        if let o = settings.intentTypeWeights[intentType] { w = o.applied(to: w) }
        if let language, let o = settings.languageWeights[language] { w = o.applied(to: w) }
        if !hasRule { w.rule = 0 }
        let total = w.rule + w.embedding + w.lexical
        guard total > 0 else { return FusionWeights(rule: 0, embedding: 0, lexical: 0) }
        return FusionWeights(rule: w.rule / total, embedding: w.embedding / total, lexical: w.lexical / total)
    }

    package func fuse(rule: Double, embedding: Double, lexical: Double, weights w: FusionWeights,
                     patternFired: Bool, negativeStrength: Double) -> Double {
        var final = w.rule * rule + w.embedding * embedding + w.lexical * lexical
        if patternFired { final += settings.patternBonus }
        if negativeStrength > 0 { final -= settings.negativePenalty * negativeStrength }
        return min(1, max(0, final))
    }
}
