/**
 * The texts every check sends: Chinese embedding calls and a Chinese rerank example, as our users first made them,
 * and English texts of ours.
 */

/** The single-input call. */
export const SINGLE_TEXT = "今天天气怎么样?";

/** A batch of three Chinese plus English texts: one vector per input, in order. */
export const BATCH_TEXTS: readonly string[] = [
  "今天天气怎么样?",
  "人工智能发展前景",
  "机器学习算法原理",
  "自然语言处理应用场景",
  "How is the weather today?",
  "The future of artificial intelligence",
  "Principles of machine learning algorithms",
  "Applications of natural language processing",
];

/**
 * Paraphrase pairs and an unrelated text per language: a working embedding model puts the paraphrase closer to
 * the anchor than the unrelated text (cosine).
 */
export const SIMILARITY_CASES: readonly {
  readonly language: string;
  readonly anchor: string;
  readonly paraphrase: string;
  readonly unrelated: string;
}[] = [
  { language: "zh", anchor: "今天天气怎么样?", paraphrase: "今天的天气如何?", unrelated: "机器学习算法原理" },
  {
    language: "en",
    anchor: "How is the weather today?",
    paraphrase: "What is the weather like today?",
    unrelated: "Principles of machine learning algorithms",
  },
];

/**
 * The rerank example: for an async-crawler question the asyncio + aiohttp document must rank first.
 */
export const RERANK_EXAMPLE = {
  query: "如何实现Python中的异步爬虫",
  documents: [
    "使用requests库发送HTTP请求，配合多线程提高效率。",
    "利用asyncio和aiohttp库构建异步网络爬取程序。",
    "Scrapy框架支持中间件扩展，适合大规模抓取任务。",
  ],
  /** Index of the document that must come first. */
  best: 1,
  bestLabel: "asyncio+aiohttp",
} as const;

/** Extra documents for the top_n check: the rerank example's documents plus two off-topic ones. */
export const TOP_N_DOCUMENTS: readonly string[] = [
  ...RERANK_EXAMPLE.documents,
  "今天天气晴朗，适合户外运动。",
  "The stock market closed higher on Friday.",
];
export const TOP_N = 2;
