"""A labelled set for related papers: 26 real arXiv papers in four topics (reinforcement
learning, LLM reasoning, vision, speech). Ids, titles and categories are the papers' own;
the abstracts are short summaries written for this set, and the Chinese titles and critique
sections (创新, 不足, 一句话总结) were written for it too, in the digest's manner.

``build()`` publishes them in a few digests, one topic spread over several issues, as the
archive would hold them."""

import datetime

from papers.models import Category, Digest, Entry, Section, SectionKind
from tests import factories

RL, REASONING, VISION, SPEECH = "rl", "reasoning", "vision", "speech"

PAPERS = [
    # --- reinforcement learning -------------------------------------------------------------
    {
        "topic": RL,
        "arxiv_id": "1312.5602",
        "title": "Playing Atari with Deep Reinforcement Learning",
        "category": "cs.LG",
        "title_zh": "用深度强化学习玩雅达利游戏",
        "abstract": "A convolutional network trained with a variant of Q-learning learns control "
        "policies directly from raw pixels of Atari games, using experience replay.",
        "innovation": "- 首次用卷积网络从原始像素直接学习价值函数\n- 经验回放打破样本相关性",
        "limitations": "- 需要数千万帧交互，样本效率低\n- 奖励稀疏的游戏上智能体几乎无法探索",
        "summary": "深度Q网络让智能体从像素中学会玩游戏，开启深度强化学习。",
    },
    {
        "topic": RL,
        "arxiv_id": "1707.06347",
        "title": "Proximal Policy Optimization Algorithms",
        "category": "cs.LG",
        "title_zh": "近端策略优化算法",
        "abstract": "A family of policy gradient methods that alternate between sampling data "
        "from the environment and optimizing a clipped surrogate objective.",
        "innovation": "- 裁剪的替代目标限制每次策略更新的幅度\n- 同一批样本可做多轮梯度更新",
        "limitations": "- 对超参数和实现细节敏感\n- 仍是同策略方法，与环境交互的样本开销大",
        "summary": "用裁剪目标稳定策略梯度，成为强化学习的默认算法。",
    },
    {
        "topic": RL,
        "arxiv_id": "1502.05477",
        "title": "Trust Region Policy Optimization",
        "category": "cs.LG",
        "title_zh": "信赖域策略优化",
        "abstract": "An iterative procedure for optimizing policies with guaranteed monotonic "
        "improvement, constraining each update by the KL divergence between policies.",
        "innovation": "- 以KL散度约束策略更新，理论上保证单调改进\n- 适用于神经网络策略",
        "limitations": "- 共轭梯度与线搜索计算复杂\n- 强化学习中样本效率仍然不高",
        "summary": "信赖域约束让策略梯度的每一步都不退步。",
    },
    {
        "topic": RL,
        "arxiv_id": "1801.01290",
        "title": "Soft Actor-Critic: Off-Policy Maximum Entropy Deep Reinforcement Learning "
        "with a Stochastic Actor",
        "category": "cs.LG",
        "title_zh": "软演员-评论家：带随机策略的异策略最大熵深度强化学习",
        "abstract": "An off-policy actor-critic algorithm in the maximum entropy framework: the "
        "actor maximizes expected reward while also maximizing entropy.",
        "innovation": "- 最大熵目标鼓励探索\n- 异策略演员-评论家，复用回放数据提高样本效率",
        "limitations": "- 温度系数需要调节或自动学习\n- 主要在连续控制任务上验证，奖励设计仍需人工",
        "summary": "把熵加进奖励，异策略强化学习又稳又省样本。",
    },
    {
        "topic": RL,
        "arxiv_id": "1509.02971",
        "title": "Continuous control with deep reinforcement learning",
        "category": "cs.LG",
        "title_zh": "基于深度强化学习的连续控制",
        "abstract": "Adapts the ideas of deep Q-learning to continuous action spaces with an "
        "actor-critic, model-free algorithm based on the deterministic policy gradient.",
        "innovation": "- 确定性策略梯度结合经验回放与目标网络\n- 直接从像素学习连续动作的控制策略",
        "limitations": "- 训练不稳定，对超参数敏感\n- 价值函数容易高估，探索依赖人为噪声",
        "summary": "DDPG把深度Q学习搬到连续动作的控制任务上。",
    },
    {
        "topic": RL,
        "arxiv_id": "1602.01783",
        "title": "Asynchronous Methods for Deep Reinforcement Learning",
        "category": "cs.LG",
        "title_zh": "深度强化学习的异步方法",
        "abstract": "Parallel actor-learners running asynchronously on several CPU threads "
        "stabilize the training of deep neural network controllers without experience replay.",
        "innovation": "- 多个智能体并行与环境交互，异步更新共享参数\n- 无需经验回放即可稳定训练",
        "limitations": "- 异步更新带来策略滞后\n- 奖励稀疏时探索不足的问题依然存在",
        "summary": "A3C用并行的演员-评论家替代经验回放，训练更快。",
    },
    {
        "topic": RL,
        "arxiv_id": "1511.05952",
        "title": "Prioritized Experience Replay",
        "category": "cs.LG",
        "title_zh": "优先经验回放",
        "abstract": "Replays important transitions more frequently, by their temporal-difference "
        "error, so that a deep Q-network agent learns more efficiently.",
        "innovation": "- 按时序差分误差给回放样本排优先级\n- 用重要性采样修正引入的偏差",
        "limitations": "- 优先队列带来额外计算开销\n- 强化学习智能体的表现对优先级指数敏感",
        "summary": "让智能体多回放意外的经验，Q学习学得更快。",
    },
    # --- LLM reasoning ----------------------------------------------------------------------
    {
        "topic": REASONING,
        "arxiv_id": "2201.11903",
        "title": "Chain-of-Thought Prompting Elicits Reasoning in Large Language Models",
        "category": "cs.CL",
        "title_zh": "思维链提示激发大语言模型的推理能力",
        "abstract": "Giving a few exemplars of intermediate reasoning steps in the prompt "
        "improves the ability of large language models to perform complex reasoning.",
        "innovation": "- 在提示中示范中间推理步骤\n- 无需微调即可提升算术与常识推理",
        "limitations": "- 只在足够大的语言模型上有效\n- 生成的推理链可能看似合理却是错的",
        "summary": "让大模型先写出思维链再回答，推理显著变强。",
    },
    {
        "topic": REASONING,
        "arxiv_id": "2203.11171",
        "title": "Self-Consistency Improves Chain of Thought Reasoning in Language Models",
        "category": "cs.CL",
        "title_zh": "自洽性提升语言模型的思维链推理",
        "abstract": "Samples a diverse set of reasoning paths from a language model and selects "
        "the most consistent answer by marginalizing over them, instead of greedy decoding.",
        "innovation": "- 采样多条推理路径，按答案投票\n- 替代贪心解码，不需额外训练",
        "limitations": "- 多次采样使推理成本成倍增加\n- 答案无法投票的开放式任务难以适用",
        "summary": "多想几条思维链再投票，大语言模型答得更准。",
    },
    {
        "topic": REASONING,
        "arxiv_id": "2305.10601",
        "title": "Tree of Thoughts: Deliberate Problem Solving with Large Language Models",
        "category": "cs.CL",
        "title_zh": "思维树：用大语言模型深思熟虑地解决问题",
        "abstract": "Generalizes chain of thought: the language model explores a tree of "
        "intermediate thoughts, evaluates them and backtracks, with search over the tree.",
        "innovation": "- 把推理组织成可搜索的思维树\n- 语言模型自我评估中间步骤并回溯",
        "limitations": "- 搜索需要大量模型调用，成本高\n- 需要为每个任务设计思维的粒度与评估提示",
        "summary": "思维树让大模型像搜索一样推理，可以回头重想。",
    },
    {
        "topic": REASONING,
        "arxiv_id": "2205.11916",
        "title": "Large Language Models are Zero-Shot Reasoners",
        "category": "cs.CL",
        "title_zh": "大语言模型是零样本推理者",
        "abstract": "Simply adding 'Let's think step by step' before each answer makes large "
        "language models decent zero-shot reasoners on arithmetic and logic benchmarks.",
        "innovation": "- 一句“逐步思考”即可触发零样本思维链\n- 无需任何示例",
        "limitations": "- 效果依赖提示措辞\n- 小模型上推理提升有限，仍会产生错误推理",
        "summary": "一句提示词让大语言模型零样本地逐步推理。",
    },
    {
        "topic": REASONING,
        "arxiv_id": "2110.14168",
        "title": "Training Verifiers to Solve Math Word Problems",
        "category": "cs.LG",
        "title_zh": "训练验证器求解数学应用题",
        "abstract": "Introduces GSM8K, grade school math word problems, and trains verifiers to "
        "judge the correctness of model-generated solutions, selecting the best ranked one.",
        "innovation": "- 发布GSM8K数学推理基准\n- 训练验证器给语言模型的多个解答打分",
        "limitations": "- 验证器只看最终答案对错，推理过程可能有误\n- 需要大量采样候选解答",
        "summary": "先生成多个解答再让验证器挑选，数学推理更可靠。",
    },
    {
        "topic": REASONING,
        "arxiv_id": "2305.20050",
        "title": "Let's Verify Step by Step",
        "category": "cs.LG",
        "title_zh": "让我们逐步验证",
        "abstract": "Compares outcome supervision with process supervision for training reward "
        "models on math reasoning; process supervision of each step works much better.",
        "innovation": "- 对推理的每一步给出人工标注的过程监督\n- 发布PRM800K逐步标注数据",
        "limitations": "- 逐步人工标注成本很高\n- 只在数学推理上验证，其他领域的推理未知",
        "summary": "逐步监督推理过程，比只看答案的验证更强。",
    },
    # --- vision -----------------------------------------------------------------------------
    {
        "topic": VISION,
        "arxiv_id": "1512.03385",
        "title": "Deep Residual Learning for Image Recognition",
        "category": "cs.CV",
        "title_zh": "用于图像识别的深度残差学习",
        "abstract": "Residual connections let very deep convolutional networks be trained "
        "easily, winning ImageNet classification and COCO detection.",
        "innovation": "- 残差连接学习恒等映射之外的残差\n- 训练上百层的卷积网络",
        "limitations": "- 极深网络的收益递减，计算量大\n- 对残差为何有效缺少理论解释",
        "summary": "残差连接让卷积网络可以很深，图像识别大幅提升。",
    },
    {
        "topic": VISION,
        "arxiv_id": "2010.11929",
        "title": "An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale",
        "category": "cs.CV",
        "title_zh": "一张图像值16x16个词：大规模图像识别的Transformer",
        "abstract": "A pure transformer applied to sequences of image patches performs very well "
        "on image classification when pre-trained on large datasets.",
        "innovation": "- 把图像切成图块序列直接输入Transformer\n- 不用卷积也能做图像分类",
        "limitations": "- 需要超大规模图像数据预训练\n- 小数据集上不如卷积网络，缺少归纳偏置",
        "summary": "ViT把图像当作词序列，视觉也进入Transformer时代。",
    },
    {
        "topic": VISION,
        "arxiv_id": "1506.02640",
        "title": "You Only Look Once: Unified, Real-Time Object Detection",
        "category": "cs.CV",
        "title_zh": "你只看一次：统一的实时目标检测",
        "abstract": "Frames object detection as a single regression from image pixels to "
        "bounding boxes and class probabilities, running in real time.",
        "innovation": "- 单个网络一次性回归边界框与类别\n- 实时检测图像中的目标",
        "limitations": "- 小目标与密集目标检测效果差\n- 边界框定位精度不如两阶段检测器",
        "summary": "YOLO把目标检测变成一次回归，快到可以实时。",
    },
    {
        "topic": VISION,
        "arxiv_id": "1505.04597",
        "title": "U-Net: Convolutional Networks for Biomedical Image Segmentation",
        "category": "cs.CV",
        "title_zh": "U-Net：用于生物医学图像分割的卷积网络",
        "abstract": "A contracting path and a symmetric expanding path with skip connections "
        "segment biomedical images precisely from very few training images.",
        "innovation": "- 编码-解码结构加跳跃连接\n- 数据增强让少量标注图像也能训练",
        "limitations": "- 大尺寸三维图像显存开销大\n- 分割边界在低对比度图像上不准",
        "summary": "U形卷积网络用很少的标注完成医学图像分割。",
    },
    {
        "topic": VISION,
        "arxiv_id": "2111.06377",
        "title": "Masked Autoencoders Are Scalable Vision Learners",
        "category": "cs.CV",
        "title_zh": "掩码自编码器是可扩展的视觉学习器",
        "abstract": "Masks a large fraction of random image patches and reconstructs the missing "
        "pixels, an efficient self-supervised pre-training for vision transformers.",
        "innovation": "- 遮住75%的图像块再重建像素\n- 非对称编码器只处理可见图块，预训练高效",
        "limitations": "- 重建像素偏重低层纹理\n- 线性探测下的图像表示不如对比学习",
        "summary": "遮住大半图像再重建，视觉自监督预训练又快又好。",
    },
    {
        "topic": VISION,
        "arxiv_id": "1506.01497",
        "title": "Faster R-CNN: Towards Real-Time Object Detection with Region Proposal Networks",
        "category": "cs.CV",
        "title_zh": "Faster R-CNN：用区域建议网络迈向实时目标检测",
        "abstract": "A region proposal network shares convolutional features with the detection "
        "network, making region proposals nearly cost-free.",
        "innovation": "- 区域建议网络与检测网络共享卷积特征\n- 锚框机制覆盖多尺度目标",
        "limitations": "- 两阶段检测仍难以达到实时\n- 锚框的尺寸和比例需要人工设定",
        "summary": "区域建议网络让两阶段目标检测快了一个量级。",
    },
    # --- speech -----------------------------------------------------------------------------
    {
        "topic": SPEECH,
        "arxiv_id": "2212.04356",
        "title": "Robust Speech Recognition via Large-Scale Weak Supervision",
        "category": "eess.AS",
        "title_zh": "基于大规模弱监督的鲁棒语音识别",
        "abstract": "Whisper: trained on 680,000 hours of multilingual audio transcripts from the "
        "internet, a speech recognition model that generalizes well zero-shot.",
        "innovation": "- 68万小时弱监督音频与转写训练\n- 一个模型完成多语言语音识别与翻译",
        "limitations": "- 低资源语言的识别错误率仍高\n- 长音频会出现幻觉和重复的转写",
        "summary": "Whisper用海量弱监督音频训练出通用的语音识别模型。",
    },
    {
        "topic": SPEECH,
        "arxiv_id": "2006.11477",
        "title": "wav2vec 2.0: A Framework for Self-Supervised Learning of Speech Representations",
        "category": "cs.CL",
        "title_zh": "wav2vec 2.0：语音表示的自监督学习框架",
        "abstract": "Masks the speech input in the latent space and solves a contrastive task over "
        "quantized latent speech representations, then fine-tunes on little labeled audio.",
        "innovation": "- 在潜空间遮盖语音并做对比学习\n- 十分钟标注音频即可微调语音识别",
        "limitations": "- 预训练需要大量无标注音频和算力\n- 量化的语音单元难以解释",
        "summary": "自监督预训练让语音识别只需极少的标注音频。",
    },
    {
        "topic": SPEECH,
        "arxiv_id": "1609.03499",
        "title": "WaveNet: A Generative Model for Raw Audio",
        "category": "cs.SD",
        "title_zh": "WaveNet：原始音频的生成模型",
        "abstract": "A deep autoregressive network with dilated causal convolutions generates raw "
        "audio waveforms, giving natural-sounding text-to-speech.",
        "innovation": "- 扩张因果卷积逐点生成音频波形\n- 语音合成的自然度接近真人",
        "limitations": "- 逐个采样点生成，合成速度极慢\n- 需要大量高质量录音训练",
        "summary": "WaveNet直接生成音频波形，语音合成更自然。",
    },
    {
        "topic": SPEECH,
        "arxiv_id": "1512.02595",
        "title": "Deep Speech 2: End-to-End Speech Recognition in English and Mandarin",
        "category": "cs.CL",
        "title_zh": "Deep Speech 2：英语和普通话的端到端语音识别",
        "abstract": "An end-to-end deep learning approach recognizes English and Mandarin speech, "
        "replacing hand-engineered pipelines with neural networks trained with CTC.",
        "innovation": "- 端到端神经网络取代传统语音识别流水线\n- 同一架构识别英语和普通话",
        "limitations": "- 依赖上万小时的标注音频\n- 嘈杂环境和口音下的识别仍不稳定",
        "summary": "一套端到端网络同时识别英语和普通话语音。",
    },
    {
        "topic": SPEECH,
        "arxiv_id": "2106.07447",
        "title": "HuBERT: Self-Supervised Speech Representation Learning by Masked Prediction "
        "of Hidden Units",
        "category": "cs.CL",
        "title_zh": "HuBERT：通过掩码预测隐藏单元的自监督语音表示学习",
        "abstract": "An offline clustering step provides target labels for a BERT-like masked "
        "prediction loss over speech, learning speech representations without labels.",
        "innovation": "- 用聚类得到的隐藏单元作为掩码预测的目标\n- 迭代改进语音表示的聚类",
        "limitations": "- 多轮聚类与预训练成本高\n- 语音表示对说话人和噪声仍然敏感",
        "summary": "掩码预测聚类单元，学到更好的自监督语音表示。",
    },
    {
        "topic": SPEECH,
        "arxiv_id": "1712.05884",
        "title": "Natural TTS Synthesis by Conditioning WaveNet on Mel Spectrogram Predictions",
        "category": "cs.CL",
        "title_zh": "以梅尔频谱预测为条件的WaveNet自然语音合成",
        "abstract": "Tacotron 2: a recurrent sequence-to-sequence network predicts mel "
        "spectrograms from text, and a modified WaveNet vocoder synthesizes speech from them.",
        "innovation": "- 文本到梅尔频谱，再由WaveNet声码器合成语音\n- 端到端语音合成接近真人录音",
        "limitations": "- 自回归声码器推理慢\n- 长句和生僻词的发音偶有错误",
        "summary": "Tacotron 2让文本到语音的合成几乎以假乱真。",
    },
]


def build() -> dict[str, Entry]:
    """Publish the set: each digest takes papers of several topics (as real issues do), so
    nothing but their text groups them. Returns the entries by arXiv id."""
    kinds = {kind.slug: kind for kind in SectionKind.objects.all()}
    entries = {}
    digests = [
        factories.digest(issue_date=datetime.date(2025, 6, 1) + datetime.timedelta(days=n))
        for n in range(6)
    ]
    for n, fact in enumerate(PAPERS):
        category = Category.objects.get(code=fact["category"])
        paper = factories.paper(
            arxiv_id=fact["arxiv_id"],
            title=fact["title"],
            abstract=fact["abstract"],
            primary_category=category,
        )
        digest: Digest = digests[n % len(digests)]
        entry = Entry.objects.create(
            digest=digest, paper=paper, position=n // len(digests) + 1, title_zh=fact["title_zh"]
        )
        for slug in ("innovation", "limitations", "summary"):
            Section.objects.create(entry=entry, kind=kinds[slug], body=fact[slug])
        entries[fact["arxiv_id"]] = entry
    return entries


def topic_of(arxiv_id: str) -> str:
    return next(fact["topic"] for fact in PAPERS if fact["arxiv_id"] == arxiv_id)
