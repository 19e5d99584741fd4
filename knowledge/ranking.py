"""The suggestion ranker: one brand's articles in memory, scored against a customer's whole
problem (schema-free: the caller builds one `BrandRanker` per brand schema from that
schema's rows, so nothing here can mix brands).

A score is a weighted sum of signals, each in about [0, 1]:
- lexical: BM25 over title, tags, summary and body (fields weighted), words stemmed in the
  brand's language, a word missing from the brand's vocabulary corrected to its nearest
  neighbours within two edits (typos), normalized by what a perfect match would score so
  the number means the same in a 50-article and a 10,000-article help center;
- semantic: cosine between the problem's mean word vector and the article's (title, tags
  and summary; body), so a problem sharing no word with the title can still match;
- dense: cosine between sentence vectors of the problem and of the article's title and
  summary from a real sentence encoder (all-MiniLM-L6-v2, knowledge/sentence_encoder.py),
  which reads "my heel slips" as a fit problem where word vectors only see heels;
- the category the customer picked, as a boost (they often pick the wrong one);
- an exact product-ID match (articles list the products they apply to);
- what happened before, in this brand only: articles that solved similar problems rise,
  articles rejected for similar problems drop, votes on the article page nudge.
The weights were fitted on the tuning half of tests/data only (bench/suggestions.py).
"""

import copy
import math
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

BM25_K1 = 1.2
BM25_B = 0.75
FIELD_WEIGHTS = {"title": 3.0, "tags": 2.0, "summary": 2.0, "body": 1.0, "category": 0.5}
UNKNOWN_WORD_WEIGHT = 0.5
TYPO_WEIGHT = 0.6  # a corrected word counts less than one the customer spelled right
MIN_TYPO_LENGTH = 4  # shorter words have too many neighbours within two edits

# Fitted on the tuning half by bench/suggestions_fit.py, in the middle of a plateau rather
# than on a peak: any one weight scaled by 0.75 or 1.33 keeps tuning hit@3 within 0.02. The
# sentence encoder alone (without the word vectors) did worse on the tuning half: globex
# hit@3 0.905 against 0.947 for both together.
WEIGHTS = {"lexical": 0.75, "semantic_head": 0.45, "semantic_body": 0.25, "dense": 0.8, "category": 0.1, "product": 0.1}
# The encoder reads the first 128 tokens of an article's title and summary (about 60 on
# average here): that is where an article says what it answers, and the cost grows with
# length (about 8 ms of CPU per 50-token article).
DENSE_ARTICLE_TOKENS = 128
DENSE_QUERY_TOKENS = 128
OUTCOME_SIMILARITY = 0.75  # cosine above which an earlier problem counts as "similar"
OUTCOME_SIGN = {"solved": 1.0, "rejected": -0.35, "helpful": 0.5, "unhelpful": -0.5}
OUTCOME_WEIGHT = 0.45  # five solves of the same problem outweigh a close text match (scores reach about 1.5)
VOTE_WEIGHT = 0.02
RELATIVE_CUT = 0.6  # below this share of the top score a suggestion is noise beside it

MAX_QUERY_CHARS = 2000
MAX_QUERY_TERMS = 64

STEMMER_LANGUAGES = {
    "en": "english", "de": "german", "fr": "french", "es": "spanish", "it": "italian", "nl": "dutch",
    "pt": "portuguese", "sv": "swedish", "da": "danish", "no": "norwegian", "nb": "norwegian", "fi": "finnish",
    "ru": "russian", "tr": "turkish", "hu": "hungarian", "ro": "romanian",
}
# Words customers write around their problem. Without this list they would carry a high
# IDF precisely because articles rarely say "my" or "hi".
STOPWORDS = {
    "en": set(
        """a an and are as at be been but by can could did do does doing done for from get got had has have having he her
        here hers him his how i i'd i'm i've if in into is isn it it's its just me my myself no nor not now of off on once
        only or our ours out over own please so some such than thank thanks that the their them then there these they this
        those through to too u up us very was we were what when where which while who whom why will with would you your
        yours yet hi hello hey dear im ive dont doesnt cant didnt wont isnt still also any anyone someone something all
        again am ok okay really want need help one got gets getting since about after before new
        """.split()
    ),
    "de": set("der die das und ist ich mein meine nicht ein eine zu mit von den dem wie was hallo bitte".split()),
    "fr": set("le la les et est je mon ma mes ne pas un une de du des pour avec bonjour merci".split()),
    "es": set("el la los las y es yo mi mis no un una de del para con hola gracias".split()),
    "nl": set("de het een en is ik mijn niet van voor met hallo bedankt".split()),
}
WORD = re.compile(r"\w+", re.UNICODE)


def product_key(value: str) -> str:
    """A product ID as customers type it in any case and punctuation: `aura mini` = `AURA-MINI`."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", value or "")).upper()


class Analyzer:
    """Lower-case words, stop words out, stems in the brand's language."""

    def __init__(self, locale: str = "en"):
        language = (locale or "en").split("-")[0].split("_")[0].lower()
        self.language = language
        self.stopwords = STOPWORDS.get(language, set())
        self.stemmer = None
        try:
            import Stemmer

            self.stemmer = Stemmer.Stemmer(STEMMER_LANGUAGES.get(language, "english"))
        except (ImportError, KeyError):  # without PyStemmer: exact words, still correct
            self.stemmer = None

    def words(self, text: str) -> list[str]:
        words = [w for w in WORD.findall(unicodedata.normalize("NFKC", text or "").lower()) if not w.isdigit() or len(w) >= 3]
        return [w.replace("_", "") for w in words if w not in self.stopwords and w.replace("_", "")]

    def stems(self, words: list[str]) -> list[str]:
        return self.stemmer.stemWords(words) if self.stemmer else list(words)


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@dataclass
class ArticleDoc:
    id: int
    slug: str
    title: str
    summary: str = ""
    body: str = ""
    tags: list[str] = field(default_factory=list)
    category: str = ""
    category_name: str = ""
    product_ids: list[str] = field(default_factory=list)
    solved_count: int = 0
    helpful_count: int = 0
    unhelpful_count: int = 0


@dataclass
class OutcomeDoc:
    problem: str
    article_id: int
    outcome: str


@dataclass
class Problem:
    text: str
    category: str = ""
    product_id: str = ""
    extra: str = ""  # custom-field values that read as words

    def query_text(self) -> str:
        return " ".join(part for part in (self.text, self.product_id, self.extra) if part)[:MAX_QUERY_CHARS]


@dataclass
class Scored:
    article_id: int
    score: float
    signals: dict
    matched_words: list[str]
    matched_product: str | None


class BrandRanker:
    def __init__(
        self, articles: list[ArticleDoc], outcomes: list[OutcomeDoc] | None = None, *, locale: str = "en", embedder=None, encoder=None,
        dense_vectors: np.ndarray | None = None,
    ):
        """`embedder`: static word vectors (knowledge.embedding); `encoder`: a sentence
        encoder with `embed(texts, max_tokens=)` (knowledge.sentence_encoder); either may be
        None. `dense_vectors`: the encoder's vectors of `dense_text(article)` for each
        article, when the caller has them already (knowledge.suggest keeps them between
        builds, so an edit re-encodes one article, not 10,000)."""
        self.analyzer = Analyzer(locale)
        self.embedder = embedder
        self.encoder = encoder
        self.articles = articles
        self.ids = np.array([a.id for a in articles], dtype=np.int64)
        self.position = {a.id: i for i, a in enumerate(articles)}
        self.categories = np.array([a.category for a in articles], dtype=object)
        self._lexical_build(articles)
        self.products: dict[str, list[int]] = defaultdict(list)
        for i, article in enumerate(articles):
            for pid in article.product_ids:
                if product_key(pid):
                    self.products[product_key(pid)].append(i)
        self.votes = np.array(
            [VOTE_WEIGHT * (math.log1p(a.helpful_count + a.solved_count) - math.log1p(a.unhelpful_count)) for a in articles], dtype=np.float32
        )
        self.head_vectors = self.body_vectors = None
        if embedder is not None and articles:
            self.head_vectors = embedder.embed([f"{a.title}. {' '.join(a.tags)}. {a.summary}" for a in articles])
            self.body_vectors = embedder.embed([a.body for a in articles])
        self.dense_vectors = None
        if encoder is not None and articles:
            if dense_vectors is None:
                dense_vectors = encoder.embed([dense_text(a) for a in articles], max_tokens=DENSE_ARTICLE_TOKENS)
            self.dense_vectors = dense_vectors
        self._outcomes_build(outcomes or [])

    # --- building ------------------------------------------------------------------------

    def _lexical_build(self, articles: list[ArticleDoc]) -> None:
        analyzer = self.analyzer
        weighted: list[Counter] = []
        self.surface: dict[str, str] = {}  # stem -> a word the articles use, for "why"
        for article in articles:
            counts: Counter = Counter()
            for name, text in (
                ("title", article.title), ("tags", " ".join(article.tags)), ("summary", article.summary),
                ("body", article.body), ("category", article.category_name),
            ):
                words = analyzer.words(text)
                for word, stem in zip(words, analyzer.stems(words)):
                    counts[stem] += FIELD_WEIGHTS[name]
                    self.surface.setdefault(stem, word)
            weighted.append(counts)
        n = len(articles)
        lengths = np.array([sum(c.values()) for c in weighted], dtype=np.float32) if n else np.zeros(0, dtype=np.float32)
        average = float(lengths.mean()) if n else 1.0
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, counts in enumerate(weighted):
            for stem, tf in counts.items():
                postings[stem].append((i, tf))
        self.idf: dict[str, float] = {}
        self.postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for stem, rows in postings.items():
            df = len(rows)
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            index = np.fromiter((r[0] for r in rows), dtype=np.int32, count=df)
            tf = np.fromiter((r[1] for r in rows), dtype=np.float32, count=df)
            norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths[index] / max(average, 1e-6))
            self.postings[stem] = (index, (idf * tf * (BM25_K1 + 1) / (tf + norm)).astype(np.float32))
            self.idf[stem] = idf
        # Every vocabulary word and its one-letter deletions point back at the word, so a
        # misspelling within about two edits finds it with a few dict lookups.
        self.neighbours: dict[str, set[str]] = defaultdict(set)
        for stem in self.postings:
            if len(stem) >= MIN_TYPO_LENGTH - 1:
                self.neighbours[stem].add(stem)
                for variant in _deletions(stem):
                    self.neighbours[variant].add(stem)

    def _outcomes_build(self, outcomes: list[OutcomeDoc]) -> None:
        kept = [o for o in outcomes if o.article_id in self.position and o.outcome in OUTCOME_SIGN]
        self.outcome_rows = np.array([self.position[o.article_id] for o in kept], dtype=np.int32)
        self.outcome_signs = np.array([OUTCOME_SIGN[o.outcome] for o in kept], dtype=np.float32)
        self.outcome_vectors = None
        if self.embedder is not None and kept:
            self.outcome_vectors = self.embedder.embed([o.problem for o in kept])
        # Votes on the article page carry no problem text: they count for the article alone.
        self.outcome_has_problem = np.array([bool(o.problem.strip()) for o in kept], dtype=bool)

    def with_outcomes(self, outcomes: list[OutcomeDoc]) -> "BrandRanker":
        """A copy sharing the article arrays, with new outcomes: other threads may be
        scoring with this one, so it is never changed in place."""
        clone = copy.copy(self)
        clone._outcomes_build(outcomes)
        return clone

    @property
    def nbytes(self) -> int:
        """Memory of this brand's arrays (the shared model is not counted here)."""
        vectors = (self.head_vectors, self.body_vectors, self.dense_vectors, self.outcome_vectors)
        total = sum(a.nbytes for a in vectors if a is not None)
        total += sum(index.nbytes + weights.nbytes + 100 + len(stem) for stem, (index, weights) in self.postings.items())
        total += sum(60 + len(k) + 8 * len(v) for k, v in self.neighbours.items())
        return total

    # --- scoring -------------------------------------------------------------------------

    def _query_terms(self, text: str) -> tuple[list[tuple[str, float, str]], int]:
        """(stem, weight, the customer's word) for each query word the brand's articles know,
        typos corrected to known words at a lower weight; and how many words it does not know."""
        words = self.analyzer.words(text)[:MAX_QUERY_TERMS]
        terms: dict[str, tuple[float, str]] = {}
        for word, stem in zip(words, self.analyzer.stems(words)):
            if stem in self.postings:
                terms[stem] = (1.0, word)
                continue
            if len(word) < MIN_TYPO_LENGTH or self._common_word(word):
                continue
            candidates = set()
            for probe in {stem, word} | _deletions(stem) | _deletions(word):
                candidates |= self.neighbours.get(probe, set())
            # Many candidates means the word is ambiguous: take the two most specific.
            for candidate in sorted(candidates, key=lambda s: -self.idf[s])[:2]:
                if candidate not in terms:
                    terms[candidate] = (TYPO_WEIGHT, word)
        unknown = len(set(words) - {w for _, w in terms.values()})
        return [(stem, weight, word) for stem, (weight, word) in terms.items()], unknown

    def score(
        self, problem: Problem, *, query_vector: np.ndarray | None = None, dense_query: np.ndarray | None = None,
    ) -> tuple[np.ndarray, dict]:
        n = len(self.articles)
        text = problem.query_text()
        terms, unknown = self._query_terms(text)
        lexical = np.zeros(n, dtype=np.float32)
        # Words this brand never uses still count in what a perfect match would be: "who
        # won the football last night" matching only "night" is a weak match, not a full one.
        best = UNKNOWN_WORD_WEIGHT * unknown * math.log(1 + (n + 0.5) / 0.5) * (BM25_K1 + 1)
        for stem, weight, _ in terms:
            index, contribution = self.postings[stem]
            lexical[index] += weight * contribution  # a posting list names each article once
            best += weight * self.idf[stem] * (BM25_K1 + 1)
        # A perfect match would score about `best` times a field weight; dividing by it
        # keeps the lexical signal in [0, 1] whatever the size of the help center.
        lexical = np.minimum(lexical / (best * 1.2), 1.0) if best > 0 else lexical
        signals = {"lexical": lexical, "terms": terms}
        total = WEIGHTS["lexical"] * lexical
        if self.head_vectors is not None and self.embedder is not None:
            if query_vector is None:
                query_vector = self.embedder.embed([text])[0]
            head = self.head_vectors @ query_vector
            body = self.body_vectors @ query_vector
            signals["semantic_head"], signals["semantic_body"] = head, body
            total = total + WEIGHTS["semantic_head"] * np.maximum(head, 0) + WEIGHTS["semantic_body"] * np.maximum(body, 0)
            if self.outcome_vectors is not None and len(self.outcome_rows):
                similarity = self.outcome_vectors @ query_vector
                relevant = np.where(self.outcome_has_problem, similarity >= OUTCOME_SIMILARITY, False)
                learned = np.zeros(n, dtype=np.float32)
                np.add.at(learned, self.outcome_rows[relevant], self.outcome_signs[relevant] * similarity[relevant])
                learned_page = np.zeros(n, dtype=np.float32)
                page = ~self.outcome_has_problem
                np.add.at(learned_page, self.outcome_rows[page], self.outcome_signs[page])
                # tanh: the tenth similar success adds little over the third.
                total = total + OUTCOME_WEIGHT * np.tanh(learned) + VOTE_WEIGHT * np.tanh(learned_page / 3)
                signals["learned"] = learned
        if self.dense_vectors is not None and text.strip():
            if dense_query is None:
                dense_query = self.encoder.embed([text], max_tokens=DENSE_QUERY_TOKENS)[0]
            dense = self.dense_vectors @ dense_query
            signals["dense"] = dense
            total = total + WEIGHTS["dense"] * np.maximum(dense, 0)
        if problem.category:
            total = total + WEIGHTS["category"] * (self.categories == problem.category)
        matched_product = None
        key = product_key(problem.product_id)
        if key and key in self.products:
            boost = np.zeros(n, dtype=np.float32)
            boost[self.products[key]] = 1.0
            # Only a boost where the problem itself already points at the article: a
            # product ID alone says which device, not what is wrong with it.
            total = total + WEIGHTS["product"] * boost * (total > 0.15)
            matched_product = problem.product_id.strip()
        total = total + self.votes
        signals["matched_product"] = matched_product
        return total.astype(np.float32), signals

    def rank(self, problem: Problem, *, limit: int = 5) -> list[Scored]:
        if not self.articles:
            return []
        total, signals = self.score(problem)
        limit = max(1, min(limit, len(self.articles)))
        top = np.argpartition(-total, limit - 1)[:limit] if len(total) > limit else np.arange(len(total))
        top = top[np.argsort(-total[top], kind="stable")]
        results = []
        for i in top:
            article = self.articles[i]
            matched = [word for stem, _, word in signals["terms"] if bool(np.any(self._posting_rows(stem) == i))]
            product = signals["matched_product"] if signals["matched_product"] and any(
                product_key(p) == product_key(signals["matched_product"]) for p in article.product_ids
            ) else None
            results.append(
                Scored(
                    article_id=article.id, score=float(total[i]),
                    signals={k: float(v[i]) for k, v in signals.items() if isinstance(v, np.ndarray)},
                    matched_words=sorted(set(matched)), matched_product=product,
                )
            )
        return results

    def _common_word(self, word: str) -> bool:
        """A word the embedding model's tokenizer holds whole is a common, correctly spelled
        word: "night" is not a typo of "tight" just because this brand never says night.
        The tokenizer's vocabulary is English, so other languages correct every unknown word."""
        if self.embedder is None or self.analyzer.language != "en":
            return False
        return self.embedder.tokenizer.token_to_id("\u2581" + word) is not None

    def _posting_rows(self, stem: str) -> np.ndarray:
        return self.postings[stem][0]


def dense_text(article: ArticleDoc) -> str:
    """What the sentence encoder reads of an article (its vector is cached by this text)."""
    return f"{article.title}. {article.summary}".strip()


def suggestions_pick(ranked: list[Scored], *, threshold: float, count: int) -> list[Scored]:
    """The suggestions to show: at most `count`, none under the brand's threshold, and none
    far below the best one (an unrelated article beside the right one only distracts)."""
    if not ranked or ranked[0].score < threshold:
        return []
    floor = max(threshold, ranked[0].score * RELATIVE_CUT)
    return [r for r in ranked[:count] if r.score >= floor]
