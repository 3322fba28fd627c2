/**
 * A small labelled retrieval set, written for this project (not taken from any benchmark): 36 queries
 * (20 Chinese, 16 English) over a shared corpus of 42 passages, each query with exactly one relevant passage.
 * Topics pair up (two passages about databases, two about Kubernetes, ...) so a model has to tell close
 * passages apart, not only topics. The quality check ranks the corpus for every query (embedding cosine, or the
 * reranker over a candidate list) and computes MRR@10; the ModelQualityLow alert fires below 0.75.
 */
export interface LabelledQuery {
  readonly query: string;
  /** Id of the one relevant passage in QUALITY_CORPUS. */
  readonly relevant: string;
}

export const QUALITY_CORPUS: Readonly<Record<string, string>> = {
  "zh-weather": "北京今天多云转晴，最高气温二十五度，空气质量良好。",
  "zh-rain": "气象台发布暴雨预警，明天南方多地有大到暴雨，注意防范城市内涝。",
  "zh-python-async": "Python的asyncio库提供事件循环和协程，适合编写高并发的网络程序。",
  "zh-python-list": "Python列表推导式可以用一行代码生成新的列表，比循环更简洁。",
  "zh-mysql-index": "MySQL索引使用B+树结构，合理建立索引可以显著加快查询速度。",
  "zh-redis-cache": "Redis是内存键值数据库，常用作缓存，支持过期时间和持久化。",
  "zh-k8s-pod": "Kubernetes中Pod是最小的调度单元，一个Pod可以包含多个容器。",
  "zh-k8s-hpa": "Kubernetes的HPA根据CPU使用率或自定义指标自动扩缩副本数量。",
  "zh-gpu-memory": "大模型推理时显存主要被模型权重和KV缓存占用，显存不足会导致加载失败。",
  "zh-embedding": "文本向量化模型把句子映射为稠密向量，向量的余弦相似度表示语义相近程度。",
  "zh-rerank": "重排序模型对召回的候选文档逐一打分，把最相关的文档排到最前面。",
  "zh-tea": "绿茶用八十度左右的水冲泡，水温过高会让茶叶变苦。",
  "zh-dumpling": "包饺子时先和面醒面，再把肉馅包进饺子皮，煮到饺子浮起即可。",
  "zh-running": "长跑前要充分热身，跑步时保持均匀呼吸，结束后做拉伸放松肌肉。",
  "zh-train": "高铁票可以在铁路官方网站或手机应用上购买，购票需要实名登记身份证。",
  "zh-passport": "办理护照需要携带身份证到出入境管理部门拍照并填写申请表。",
  "zh-stock": "股票市场受宏观经济、公司业绩和投资者情绪等多种因素影响而波动。",
  "zh-savings": "定期存款的利率通常高于活期存款，但提前支取会损失部分利息。",
  "zh-panda": "大熊猫主要生活在四川的山区竹林中，每天要吃大量竹子。",
  "zh-great-wall": "长城是中国古代修建的军事防御工程，东起山海关，西至嘉峪关。",
  "en-weather": "The forecast for London today is cloudy with light showers and a high of 18 degrees.",
  "en-snow": "Heavy snow is expected across the mountains this weekend, and several roads may close.",
  "en-python-async":
    "Python's asyncio module runs coroutines on an event loop, which suits many concurrent network requests.",
  "en-python-typing":
    "Type hints in Python annotate function parameters and return values and are checked by tools like mypy.",
  "en-postgres": "PostgreSQL uses multiversion concurrency control so that readers never block writers.",
  "en-backup": "A database backup strategy combines full snapshots with continuous write-ahead log archiving.",
  "en-docker": "A Docker image is built in layers from a Dockerfile, and each instruction creates a new layer.",
  "en-k8s-probe":
    "A Kubernetes readiness probe keeps a pod out of the service until the application can answer requests.",
  "en-gpu": "Large language model inference is limited by GPU memory bandwidth more than by raw compute.",
  "en-bread": "To bake bread, mix flour, water, yeast and salt, let the dough rise, then bake it in a hot oven.",
  "en-coffee": "Espresso is brewed by forcing hot water through finely ground coffee at high pressure.",
  "en-cycling": "Cycling to work improves cardiovascular fitness and cuts commuting costs.",
  "en-flight": "Airline passengers should arrive at the airport two hours before an international flight.",
  "en-mortgage": "A fixed-rate mortgage keeps the same interest rate and monthly payment for the whole loan term.",
  "en-volcano": "Volcanoes erupt when magma from deep inside the earth rises through cracks in the crust.",
  "en-honeybee": "Honeybees collect nectar from flowers and turn it into honey inside the hive.",
  // Distractors: near the topics above, relevant to no query.
  "zh-x-java": "Java的线程池可以复用线程，减少频繁创建线程的开销。",
  "zh-x-oracle": "Oracle数据库的表空间用于管理数据文件的存储。",
  "zh-x-coffee": "咖啡豆在烘焙过程中会产生独特的香气和苦味。",
  "en-x-rust": "Rust's ownership model prevents data races at compile time.",
  "en-x-train": "High-speed trains in Europe connect major cities in a few hours.",
  "en-x-tea": "Black tea is fully oxidised, which gives it a darker colour and stronger taste.",
};

export const QUALITY_QUERIES: readonly LabelledQuery[] = [
  { query: "北京今天天气怎么样", relevant: "zh-weather" },
  { query: "明天会下暴雨吗", relevant: "zh-rain" },
  { query: "Python怎么写高并发的异步网络程序", relevant: "zh-python-async" },
  { query: "Python列表推导式怎么用", relevant: "zh-python-list" },
  { query: "MySQL查询慢怎么建索引", relevant: "zh-mysql-index" },
  { query: "Redis缓存的过期时间", relevant: "zh-redis-cache" },
  { query: "Kubernetes的Pod是什么", relevant: "zh-k8s-pod" },
  { query: "Kubernetes怎么自动扩缩副本", relevant: "zh-k8s-hpa" },
  { query: "大模型推理显存不足", relevant: "zh-gpu-memory" },
  { query: "句子向量的余弦相似度", relevant: "zh-embedding" },
  { query: "重排序模型怎么给候选文档打分", relevant: "zh-rerank" },
  { query: "绿茶用多少度的水冲泡", relevant: "zh-tea" },
  { query: "饺子怎么包怎么煮", relevant: "zh-dumpling" },
  { query: "长跑前后要注意什么", relevant: "zh-running" },
  { query: "在哪里买高铁票", relevant: "zh-train" },
  { query: "办理护照需要什么", relevant: "zh-passport" },
  { query: "股票市场为什么波动", relevant: "zh-stock" },
  { query: "定期存款提前支取", relevant: "zh-savings" },
  { query: "大熊猫生活在哪里", relevant: "zh-panda" },
  { query: "长城东起哪里西至哪里", relevant: "zh-great-wall" },
  { query: "What is the weather forecast for London today?", relevant: "en-weather" },
  { query: "Will heavy snow close the mountain roads this weekend?", relevant: "en-snow" },
  { query: "How do I run many concurrent network requests with Python asyncio?", relevant: "en-python-async" },
  { query: "How are Python type hints checked?", relevant: "en-python-typing" },
  { query: "Do readers block writers in PostgreSQL?", relevant: "en-postgres" },
  { query: "What is a good database backup strategy?", relevant: "en-backup" },
  { query: "How is a Docker image built from a Dockerfile?", relevant: "en-docker" },
  { query: "What does a Kubernetes readiness probe do?", relevant: "en-k8s-probe" },
  { query: "What limits GPU inference of large language models?", relevant: "en-gpu" },
  { query: "How do I bake bread at home?", relevant: "en-bread" },
  { query: "How is espresso coffee brewed?", relevant: "en-coffee" },
  { query: "Is cycling to work good for fitness?", relevant: "en-cycling" },
  { query: "When should I arrive at the airport for an international flight?", relevant: "en-flight" },
  { query: "What is a fixed-rate mortgage?", relevant: "en-mortgage" },
  { query: "Why do volcanoes erupt?", relevant: "en-volcano" },
  { query: "How do honeybees make honey?", relevant: "en-honeybee" },
];

/** Reciprocal rank of the relevant id in a ranking, counting only the first k places (0 when not there). */
export function reciprocalRankAt(ranking: readonly string[], relevant: string, k = 10): number {
  const position = ranking.slice(0, k).indexOf(relevant);
  return position < 0 ? 0 : 1 / (position + 1);
}
