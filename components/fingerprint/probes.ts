/**
 * The fixed probe set of the fingerprints, written for this project: short everyday and technical texts in each
 * language the bundled sets cover. Never edit a probe in place: a recorded fingerprint is keyed by
 * PROBE_SET_VERSION, and a changed probe would read as drift. Add probes under a new version instead.
 */

export const PROBE_SET_VERSION = "probes-v1";

interface EmbedProbe {
  readonly id: string;
  readonly language: string;
  readonly text: string;
}

interface RerankProbe {
  readonly id: string;
  readonly language: string;
  readonly query: string;
  readonly documents: readonly string[];
}

const zh: [string, string][] = [
  ["zh-01", "今天下午有雷阵雨，出门记得带伞。"],
  ["zh-02", "数据库连接池的大小要和并发请求数相匹配。"],
  ["zh-03", "这家餐馆的红烧肉很有名，周末常常排队。"],
  ["zh-04", "容器镜像应当固定版本号，避免每次部署拉到不同的内容。"],
  ["zh-05", "孩子们在公园里放风筝，天空中飘着五颜六色的风筝。"],
  ["zh-06", "向量检索先召回候选文档，再用重排序模型精排。"],
  ["zh-07", "高速公路上发生了交通事故，请绕行。"],
  ["zh-08", "图书馆周一闭馆，其余时间上午九点开门。"],
  ["zh-09", "显卡驱动升级后需要重启服务器才能生效。"],
  ["zh-10", "秋天的银杏叶变成了金黄色，非常漂亮。"],
  ["zh-11", "请在月底之前提交报销单据和发票。"],
  ["zh-12", "这段代码在并发写入时会出现竞态条件。"],
  ["zh-13", "他每天早上六点起床跑步五公里。"],
  ["zh-14", "新版本修复了内存泄漏的问题。"],
  ["zh-15", "火锅的汤底可以选择麻辣或者清汤。"],
  ["zh-16", "负载均衡器把请求分发到多个后端实例。"],
];

const en: [string, string][] = [
  ["en-01", "Thunderstorms are expected this afternoon, so take an umbrella."],
  ["en-02", "The size of a database connection pool should match the number of concurrent requests."],
  ["en-03", "This restaurant is famous for its braised pork and there is often a queue at weekends."],
  ["en-04", "Container images should be pinned to a version so that every deploy pulls the same content."],
  ["en-05", "Children are flying colourful kites in the park."],
  ["en-06", "Vector search first retrieves candidate documents, then a reranker orders them."],
  ["en-07", "There has been an accident on the motorway; please take another route."],
  ["en-08", "The library is closed on Mondays and opens at nine on other days."],
  ["en-09", "After a GPU driver upgrade the server has to be restarted."],
  ["en-10", "In autumn the ginkgo leaves turn a bright golden yellow."],
  ["en-11", "Please submit your expense claims and receipts before the end of the month."],
  ["en-12", "This code has a race condition when two threads write at the same time."],
  ["en-13", "He gets up at six every morning to run five kilometres."],
  ["en-14", "The new release fixes a memory leak."],
  ["en-15", "The soup base of a hot pot can be spicy or mild."],
  ["en-16", "A load balancer spreads requests across several backend instances."],
];

export const EMBED_PROBES: readonly EmbedProbe[] = [
  ...zh.map(([id, text]) => ({ id, language: "zh", text })),
  ...en.map(([id, text]) => ({ id, language: "en", text })),
];

/** Each query has documents from clearly relevant to unrelated, so a working reranker gives a stable order. */
export const RERANK_PROBES: readonly RerankProbe[] = [
  {
    id: "zh-r1",
    language: "zh",
    query: "如何加快MySQL查询速度",
    documents: [
      "为经常出现在WHERE条件中的列建立索引，可以显著加快MySQL查询。",
      "使用EXPLAIN查看执行计划，找出全表扫描的慢查询。",
      "MySQL是一种常用的关系型数据库。",
      "Redis可以作为缓存，减少对数据库的访问。",
      "周末去爬山，山顶的风景很美。",
      "绿茶用八十度的水冲泡最好。",
    ],
  },
  {
    id: "zh-r2",
    language: "zh",
    query: "猫为什么喜欢晒太阳",
    documents: [
      "猫的体温比人高，晒太阳可以帮助它们保持体温、节省能量。",
      "很多猫喜欢躺在阳光充足的窗台上睡觉。",
      "猫是常见的家庭宠物。",
      "狗需要每天外出散步。",
      "太阳能电池板把光能转化为电能。",
      "股票市场今天大幅下跌。",
    ],
  },
  {
    id: "zh-r3",
    language: "zh",
    query: "Kubernetes的Pod一直处于Pending状态怎么办",
    documents: [
      "Pod处于Pending通常是因为没有节点满足其资源请求，可以用kubectl describe查看调度事件。",
      "检查节点的GPU或内存是否足够，以及是否有污点阻止调度。",
      "Kubernetes是一个容器编排系统。",
      "Docker镜像由多个层组成。",
      "今天晚饭吃饺子。",
      "长城是古代的军事防御工程。",
    ],
  },
  {
    id: "en-r1",
    language: "en",
    query: "How do I speed up slow SQL queries?",
    documents: [
      "Add indexes on the columns used in WHERE clauses and joins to speed up slow SQL queries.",
      "Use EXPLAIN to find queries that scan the whole table.",
      "SQL is a language for querying relational databases.",
      "A cache in front of the database reduces the number of queries.",
      "The hiking trail to the summit takes three hours.",
      "Green tea is best brewed with water at about eighty degrees.",
    ],
  },
  {
    id: "en-r2",
    language: "en",
    query: "Why do cats like lying in the sun?",
    documents: [
      "Cats lie in the sun to keep warm and save energy, because their body temperature is higher than ours.",
      "Many cats sleep on a sunny windowsill.",
      "Cats are popular pets.",
      "Dogs need a walk every day.",
      "Solar panels turn sunlight into electricity.",
      "The stock market fell sharply today.",
    ],
  },
  {
    id: "en-r3",
    language: "en",
    query: "Why is my Kubernetes pod stuck in Pending?",
    documents: [
      "A pod stays Pending when no node can satisfy its resource requests; kubectl describe shows the scheduling events.",
      "Check that nodes have enough GPUs or memory and that no taint prevents scheduling.",
      "Kubernetes is a container orchestration system.",
      "A Docker image is made of layers.",
      "We are having dumplings for dinner tonight.",
      "The Great Wall is an ancient defensive structure.",
    ],
  },
];

/**
 * The probes in a model's languages. A model whose languages the set does not cover (or that states none) gets
 * every probe: its fingerprint still detects a change, it just says less about quality.
 */
export function probesFor<T extends { language: string }>(
  probes: readonly T[],
  languages: readonly string[] | undefined,
): T[] {
  const matching = languages ? probes.filter((p) => languages.includes(p.language)) : [];
  return matching.length ? matching : [...probes];
}
