/// What the UI should do with a request.
package enum UIStrategy: String, Sendable, Hashable, Codable, CaseIterable {
    /// One clear winner: run it.
    case execute
    /// A likely winner, not certain enough to run without a yes.
    case confirm
    /// Several close candidates: let the user pick.
    case disambiguate
    /// Nothing relevant (out of scope or too vague): ask again.
    case clarify
}

/// One candidate action and the evidence for it.
package struct ScoredAction: Sendable, Hashable, Codable {
    package var actionId: String
    package var ruleScore: Double
    package var embedScore: Double
    package var lexicalScore: Double
    package var finalScore: Double
    /// Human-readable: the keywords, patterns, entities and negatives that fired, the closest
    /// seed, the weights used.
    package var reasoning: [String]

    package init(actionId: String, ruleScore: Double, embedScore: Double, lexicalScore: Double, finalScore: Double,
                reasoning: [String]) {
        self.actionId = actionId
        self.ruleScore = ruleScore
        self.embedScore = embedScore
        self.lexicalScore = lexicalScore
        self.finalScore = finalScore
        self.reasoning = reasoning
    }

    enum CodingKeys: String, CodingKey {
        case actionId = "action_id"
        case ruleScore = "rule_score"
        case embedScore = "embed_score"
        case lexicalScore = "lexical_score"
        case finalScore = "final_score"
        case reasoning
    }
}

/// The router's answer:
/// `{request_id, top_actions: [{action_id, rule_score, embed_score, lexical_score, final_score,
/// reasoning}], ui_strategy, message, language, catalog_version}`.
package struct RouteResult: Sendable, Hashable, Codable {
    package var requestId: String?
    /// Best first, at most `decision.top_k`.
    package var topActions: [ScoredAction]
    package var uiStrategy: UIStrategy
    /// For the user, in the request's language.
    package var message: String
    package var language: RequestLanguage
    /// The ids `disambiguate` offers (or the one to confirm / execute); empty for `clarify`.
    package var choices: [String]
    package var catalogVersion: String

    package init(requestId: String?, topActions: [ScoredAction], uiStrategy: UIStrategy, message: String,
                language: RequestLanguage, choices: [String], catalogVersion: String) {
        self.requestId = requestId
        self.topActions = topActions
        self.uiStrategy = uiStrategy
        self.message = message
        self.language = language
        self.choices = choices
        self.catalogVersion = catalogVersion
    }

    enum CodingKeys: String, CodingKey {
        case requestId = "request_id"
        case topActions = "top_actions"
        case uiStrategy = "ui_strategy"
        case message
        case language
        case choices
        case catalogVersion = "catalog_version"
    }
}
