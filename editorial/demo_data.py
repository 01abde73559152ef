"""Demo content for `manage.py load_demo`: two digests written for this project.

Paper facts (titles, authors, arXiv ids, categories, abstracts) are the papers' own; all critique text is original.

The demo is dated 27 and 28 September 2025, beside the real issues rather than on them:
pasting the site's own 9.30 page (../shared/seed/digest-2025-09-30.txt), the first thing a
newcomer tries, must not be refused as "exists already". ``former`` is where an earlier
release put the same digest (title and date, slug ``ai-frontier-<date>``): a database that
holds it there gets no second copy.
"""

DIGESTS = [
    {
        "title": "AI前沿推介(9.27)",
        "slug": "ai-frontier-2025-09-27",
        "issue_date": "2025-09-27",
        "former": {"title": "AI前沿推介(9.29)", "issue_date": "2025-09-29"},
        "summary": (
            "本期回顾三篇奠定当代深度学习格局的经典论文：以纯注意力机制取代循环与卷积的 Transformer、"
            "用残差连接突破网络深度瓶颈的 ResNet，以及凭借 1750 亿参数展示上下文少样本学习能力的 GPT-3。"
            "三者分别从序列建模、深层网络优化与模型规模化三个方向，塑造了今天大模型研究的基本范式。"
        ),
        "tags": ["经典回顾", "Transformer", "LLM"],
        "entries": [
            {
                "arxiv_id": "1706.03762",
                "title": "Attention Is All You Need",
                "authors": [
                    "A Vaswani",
                    "N Shazeer",
                    "N Parmar",
                    "J Uszkoreit",
                    "L Jones",
                    "A N Gomez",
                    "L Kaiser",
                    "I Polosukhin",
                ],
                "affiliations": ["Google Brain", "Google Research", "University of Toronto"],
                "abstract": (
                    "The dominant sequence transduction models are based on complex recurrent or "
                    "convolutional neural networks that include an encoder and a decoder. The best "
                    "performing models also connect the encoder and decoder through an attention "
                    "mechanism. We propose a new simple network architecture, the Transformer, based "
                    "solely on attention mechanisms, dispensing with recurrence and convolutions "
                    "entirely. Experiments on two machine translation tasks show these models to be "
                    "superior in quality while being more parallelizable and requiring significantly "
                    "less time to train. Our model achieves 28.4 BLEU on the WMT 2014 English-to-German "
                    "translation task, improving over the existing best results, including ensembles, "
                    "by over 2 BLEU. On the WMT 2014 English-to-French translation task, our model "
                    "establishes a new single-model state-of-the-art BLEU score of 41.8 after training "
                    "for 3.5 days on eight GPUs, a small fraction of the training costs of the best "
                    "models from the literature. We show that the Transformer generalizes well to other "
                    "tasks by applying it successfully to English constituency parsing both with large "
                    "and limited training data."
                ),
                "primary_category": "cs.CL",
                "categories": ["cs.LG"],
                "published_on": "2017-06-12",
                "title_zh": "注意力机制就是你所需要的全部",
                "tags": ["Transformer", "注意力机制", "机器翻译"],
                "sections": {
                    "key-points": (
                        "- 针对以循环或卷积网络为核心的编码器—解码器序列转换模型，作者提出完全摒弃循环与卷积、仅依靠注意力机制构建的 Transformer 架构。\n"
                        "- 编码器与解码器均由堆叠的自注意力层和逐位置前馈层组成，并辅以残差连接、层归一化和正弦位置编码来注入序列的顺序信息。\n"
                        "- 缩放点积注意力与多头注意力让模型在多个表示子空间中并行捕捉远距离依赖，任意两个位置之间的信息路径长度为常数。\n"
                        "- 在 WMT 2014 英德翻译任务上取得 28.4 BLEU，比包括集成模型在内的此前最佳结果高出 2 BLEU 以上。\n"
                        "- 在 WMT 2014 英法翻译任务上以 41.8 BLEU 刷新单模型纪录，只用 8 块 GPU 训练 3.5 天，成本仅为文献中最佳模型的一小部分。\n"
                        "- 迁移到英语成分句法分析后，无论训练数据充足还是有限都表现良好，初步说明该架构并不局限于翻译任务。"
                    ),
                    "gist": (
                        "这篇论文的核心主张是：序列建模并不必须依赖循环结构逐步传递状态，注意力本身就足以完成对上下文的建模。"
                        "作者用自注意力全面替代 RNN 和 CNN，使整段序列在训练时可以一次性并行计算，从而同时换来更高的翻译质量和显著缩短的训练时间，"
                        "并以句法分析实验佐证这一架构具有跨任务的通用性。"
                    ),
                    "innovation": (
                        "- 彻底去掉循环与卷积，把自注意力作为唯一的序列交互机制，这在当时的编码器—解码器框架中是相当激进的设计选择。\n"
                        "- 引入缩放点积注意力，用 1/√d_k 的缩放因子缓解维度较高时点积过大、softmax 梯度过小的问题。\n"
                        "- 多头注意力把查询、键、值投影到多个低维子空间分别计算再拼接，使单层即可同时关注不同类型的依赖关系。\n"
                        "- 采用不含可学习参数的正弦位置编码，为本身与顺序无关的注意力运算提供位置信息，并为处理更长序列留出余地。"
                    ),
                    "contribution": (
                        "- 给出了一个可在 GPU 上高度并行训练的通用序列架构，后来的 BERT、GPT 系列以及视觉 Transformer 都直接建立在这一设计之上。\n"
                        "- 用两项标准翻译基准上的新纪录证明，抛弃循环结构不但不损失质量，反而能以更低的训练成本取得更好的效果。\n"
                        "- 通过英语成分句法分析的迁移实验，验证了该架构在不同数据规模的结构化预测任务上同样适用。"
                    ),
                    "improvement": (
                        "与当时主流的循环或卷积翻译模型相比，Transformer 的进步同时体现在质量与效率两端：\n\n"
                        "- 翻译质量：英德任务达到 28.4 BLEU，领先此前最优结果（含集成模型）超过 2 BLEU；英法任务单模型 41.8 BLEU 创下新高。\n"
                        "- 训练成本：英法任务的大模型在 8 块 GPU 上 3.5 天即可训练完成，计算开销远低于同期的最佳系统。\n"
                        "- 并行程度：自注意力层的计算不再依赖前一时间步的隐藏状态，训练时序列内各个位置可以同时处理。"
                    ),
                    "limitations": (
                        "- 自注意力的计算量与显存占用随序列长度呈平方增长，论文没有解决长文档、长音频等超长序列场景下的效率问题。\n"
                        "- 实验集中在机器翻译和一项句法分析任务上，该架构对其他模态与任务的普适性在论文发表时仍属推断。\n"
                        "- 正弦位置编码能否稳健外推到远超训练长度的序列，论文只给出了设想，缺乏系统的实验验证。\n"
                        "- 解码阶段仍是自回归的逐词生成，推理时的并行优势远不如训练阶段明显。"
                    ),
                    "takeaways": (
                        "- 架构上的“减法”有时比“加法”更有力量：去掉看似不可或缺的循环结构，反而让模型更容易扩展到更大的数据与算力规模。\n"
                        "- 与硬件特性契合的设计会被长期放大，以矩阵乘法为主的注意力计算正是 Transformer 日后成为大模型基础架构的重要原因。\n"
                        "- 评价一项工作的长远价值，要看它的机制能否迁移，而不只看单个基准上的分数，这篇以翻译为主要实验的论文就是最好的例子。"
                    ),
                    "summary": (
                        "Transformer 以纯注意力机制取代循环与卷积，在机器翻译上以更低的训练成本取得更高质量，"
                        "为此后几乎所有大规模语言与多模态模型奠定了架构基础。"
                    ),
                },
                "figures": [
                    {
                        "caption": "图1：Transformer 编码器—解码器整体结构示意，左侧为堆叠的编码器层，右侧为带掩码自注意力的解码器层",
                        "alt": "Schematic of the Transformer encoder-decoder stack with multi-head attention and feed-forward sublayers",
                    },
                    {
                        "caption": "图2：缩放点积注意力与多头注意力的计算流程示意",
                        "alt": "Diagram of scaled dot-product attention and of multi-head attention built from several parallel heads",
                    },
                    {
                        "caption": "图3：WMT 2014 英德、英法翻译任务上 BLEU 分数与训练成本的对比示意",
                        "alt": "Bar chart comparing BLEU scores and training cost of the Transformer against earlier translation models",
                    },
                ],
            },
            {
                "arxiv_id": "1512.03385",
                "title": "Deep Residual Learning for Image Recognition",
                "authors": ["K He", "X Zhang", "S Ren", "J Sun"],
                "affiliations": ["Microsoft Research"],
                "abstract": (
                    "Deeper neural networks are more difficult to train. We present a residual learning "
                    "framework to ease the training of networks that are substantially deeper than those "
                    "used previously. We explicitly reformulate the layers as learning residual functions "
                    "with reference to the layer inputs, instead of learning unreferenced functions. We "
                    "provide comprehensive empirical evidence showing that these residual networks are "
                    "easier to optimize, and can gain accuracy from considerably increased depth. On the "
                    "ImageNet dataset we evaluate residual nets with a depth of up to 152 layers—8x "
                    "deeper than VGG nets but still having lower complexity. An ensemble of these "
                    "residual nets achieves 3.57% error on the ImageNet test set. This result won the "
                    "1st place on the ILSVRC 2015 classification task. We also present analysis on "
                    "CIFAR-10 with 100 and 1000 layers.\n\n"
                    "The depth of representations is of central importance for many visual recognition "
                    "tasks. Solely due to our extremely deep representations, we obtain a 28% relative "
                    "improvement on the COCO object detection dataset. Deep residual nets are "
                    "foundations of our submissions to ILSVRC & COCO 2015 competitions, where we also "
                    "won the 1st places on the tasks of ImageNet detection, ImageNet localization, COCO "
                    "detection, and COCO segmentation."
                ),
                "primary_category": "cs.CV",
                "categories": [],
                "published_on": "2015-12-10",
                "title_zh": "面向图像识别的深度残差学习",
                "tags": ["计算机视觉", "残差网络"],
                "sections": {
                    "key-points": (
                        "- 针对“网络越深越难训练”的退化问题，作者提出残差学习框架，让堆叠的层去拟合相对于输入的残差函数，而不是直接拟合目标映射。\n"
                        "- 残差结构通过恒等捷径连接实现，几乎不增加参数量和计算量，却显著改善了深层网络的可优化性。\n"
                        "- 在 ImageNet 上训练了深达 152 层的残差网络，深度是 VGG 的 8 倍，计算复杂度反而更低。\n"
                        "- 残差网络的集成模型在 ImageNet 测试集上取得 3.57% 的错误率，获得 ILSVRC 2015 分类任务第一名。\n"
                        "- 在 CIFAR-10 上进一步分析了 100 层与 1000 层量级的网络，考察极深结构的训练行为。\n"
                        "- 更深的表示迁移到检测任务同样有效：仅凭表示加深，COCO 目标检测即获得 28% 的相对提升，并拿下 ILSVRC 与 COCO 2015 多个赛道的冠军。"
                    ),
                    "gist": (
                        "论文要回答的问题是：既然深度对视觉表示如此关键，为什么简单地堆叠更多层会让训练误差不降反升？"
                        "作者的答案是改变每一组层的学习目标——如果恒等映射已经接近最优，那么让网络学习一个趋近于零的残差，远比从头学出恒等映射容易。"
                        "基于这一重新表述，残差网络把可训练的深度推进到上百层，并在分类、检测、定位和分割上全面领先。"
                    ),
                    "innovation": (
                        "- 将层的学习目标从 H(x) 改写为 F(x) = H(x) − x，把对普通网络而言困难的“学出恒等映射”转化为“把残差压向零”。\n"
                        "- 以无参数的恒等捷径实现残差连接，仅在维度不匹配时才使用投影，使加深网络几乎不付出额外代价。\n"
                        "- 为更深的网络设计 1×1、3×3、1×1 卷积组成的瓶颈残差块，在控制计算量的前提下把深度扩展到 152 层。"
                    ),
                    "contribution": (
                        "- 在实验上清晰刻画了深层普通网络的“退化”现象，并指出其根源在于优化困难而非过拟合。\n"
                        "- 提供了一种简单、通用、易于复现的网络构件，残差连接此后成为 CNN、Transformer 等几乎所有深层架构的标准组件。\n"
                        "- 以 ImageNet 分类、检测、定位及 COCO 检测、分割等多项竞赛冠军，证明更深的表示能够稳定地迁移到下游视觉任务。"
                    ),
                    "improvement": (
                        "相较于同期的 VGG、GoogLeNet 等网络，ResNet 的提升主要体现在以下几点：\n\n"
                        "- 分类精度：集成模型在 ImageNet 测试集上的错误率降至 3.57%，夺得 ILSVRC 2015 分类冠军。\n"
                        "- 深度与复杂度：152 层网络的深度是 VGG 的 8 倍，计算量却更低，打破了“更深必然更贵”的直觉。\n"
                        "- 下游迁移：只需换用更深的残差表示，COCO 目标检测就获得约 28% 的相对提升。"
                    ),
                    "limitations": (
                        "- 对残差结构为何更易优化，论文主要给出直觉解释和经验证据，缺少严格的理论分析。\n"
                        "- 在 CIFAR-10 上，千层以上网络的测试误差反而高于 110 层版本，作者将其归因于过拟合，说明单纯加深并不总能带来收益。\n"
                        "- 极深网络的单次计算量虽然可控，但层数带来的串行延迟与激活显存在部署时仍是实际负担。"
                    ),
                    "takeaways": (
                        "- 重新表述优化目标往往比设计更复杂的模块更有效，一条加法捷径就改变了深度学习可用的深度上限。\n"
                        "- 区分“优化困难”与“过拟合”对诊断模型问题至关重要，退化现象正是由训练误差而非测试误差暴露出来的。\n"
                        "- 好的结构先验应当让“什么都不做”成为容易达到的默认状态，这一思想在后来 Transformer 的残差流设计中被反复印证。"
                    ),
                    "summary": (
                        "ResNet 通过恒等捷径让网络学习残差函数，解决了深层网络的退化问题，把可训练深度推进到上百层，"
                        "并以多项竞赛冠军确立了残差连接作为深度学习基础构件的地位。"
                    ),
                },
                "figures": [
                    {
                        "caption": "图1：残差学习基本单元示意，两层权重的输出与恒等捷径相加后再经激活",
                        "alt": "Residual building block: two weight layers with an identity shortcut added to their output",
                    },
                    {
                        "caption": "图2：普通网络与残差网络在不同深度下的训练误差曲线对比示意",
                        "alt": "Training error curves of plain versus residual networks at 18 and 34 layers",
                    },
                    {
                        "caption": "图3：由 1×1、3×3、1×1 卷积组成的瓶颈残差块结构示意",
                        "alt": "Bottleneck residual block built from 1x1, 3x3 and 1x1 convolutions",
                    },
                ],
            },
            {
                "arxiv_id": "2005.14165",
                "title": "Language Models are Few-Shot Learners",
                "authors": [
                    "T B Brown",
                    "B Mann",
                    "N Ryder",
                    "M Subbiah",
                    "J Kaplan",
                    "P Dhariwal",
                    "A Neelakantan",
                    "P Shyam",
                ],
                "affiliations": ["OpenAI"],
                "abstract": (
                    "Recent work has demonstrated substantial gains on many NLP tasks and benchmarks by "
                    "pre-training on a large corpus of text followed by fine-tuning on a specific task. "
                    "While typically task-agnostic in architecture, this method still requires "
                    "task-specific fine-tuning datasets of thousands or tens of thousands of examples. By "
                    "contrast, humans can generally perform a new language task from only a few examples "
                    "or from simple instructions - something which current NLP systems still largely "
                    "struggle to do. Here we show that scaling up language models greatly improves "
                    "task-agnostic, few-shot performance, sometimes even reaching competitiveness with "
                    "prior state-of-the-art fine-tuning approaches. Specifically, we train GPT-3, an "
                    "autoregressive language model with 175 billion parameters, 10x more than any "
                    "previous non-sparse language model, and test its performance in the few-shot "
                    "setting. For all tasks, GPT-3 is applied without any gradient updates or "
                    "fine-tuning, with tasks and few-shot demonstrations specified purely via text "
                    "interaction with the model. GPT-3 achieves strong performance on many NLP datasets, "
                    "including translation, question-answering, and cloze tasks, as well as several "
                    "tasks that require on-the-fly reasoning or domain adaptation, such as unscrambling "
                    "words, using a novel word in a sentence, or performing 3-digit arithmetic. At the "
                    "same time, we also identify some datasets where GPT-3's few-shot learning still "
                    "struggles, as well as some datasets where GPT-3 faces methodological issues related "
                    "to training on large web corpora. Finally, we find that GPT-3 can generate samples "
                    "of news articles which human evaluators have difficulty distinguishing from "
                    "articles written by humans. We discuss broader societal impacts of this finding and "
                    "of GPT-3 in general."
                ),
                "primary_category": "cs.CL",
                "categories": [],
                "published_on": "2020-05-28",
                "title_zh": "语言模型是少样本学习者",
                "tags": ["LLM", "少样本学习", "规模化"],
                "sections": {
                    "key-points": (
                        "- 作者指出，“预训练加微调”范式虽然在架构上与任务无关，却仍需为每个任务准备数千到数万条标注样本，而人类只凭少量示例或简单指令就能完成新任务。\n"
                        "- 论文训练了 1750 亿参数的自回归语言模型 GPT-3，规模是此前任何非稀疏语言模型的 10 倍。\n"
                        "- 所有评测都不做梯度更新或微调，任务说明与少量示范完全以文本形式放入上下文，由模型直接续写作答。\n"
                        "- GPT-3 在翻译、问答、完形填空等大量 NLP 数据集上表现强劲，部分任务的少样本结果可与此前最优的微调方法相竞争。\n"
                        "- 模型还能完成需要即时推理或领域适应的任务，例如还原字母被打乱的单词、在句子中使用新造词以及三位数算术。\n"
                        "- 作者同时坦陈，少样本学习在部分数据集上仍然吃力，在大规模网络语料上训练也带来方法学问题，而难辨真假的生成新闻更引出了社会影响的讨论。"
                    ),
                    "gist": (
                        "这篇论文验证了一个大胆的判断：只要把语言模型做得足够大，任务无关的少样本能力就会随之显著增强，"
                        "模型可以仅凭上下文中的说明和示例“现场学会”新任务，而无需专门微调。"
                        "作者以 1750 亿参数的 GPT-3 在零样本、单样本和少样本三种设置下进行大范围评测，系统展示了规模化带来的上下文学习能力，也如实记录了它的短板与潜在风险。"
                    ),
                    "innovation": (
                        "- 把上下文学习作为主要评测范式，将任务说明和示例都编码进提示文本，彻底绕开针对单个任务的参数更新。\n"
                        "- 将稠密语言模型一举推到 1750 亿参数，并在多个模型尺寸上对比零样本、单样本与少样本表现，揭示少样本能力随规模增长的趋势。\n"
                        "- 专门设计字母重排、新词使用、多位数算术等即时推理类任务，检验模型是否具备超出记忆的适应能力。"
                    ),
                    "contribution": (
                        "- 提供了“规模化可以带来通用少样本能力”的大规模实证，直接推动了此后以提示为核心的大模型应用范式。\n"
                        "- 完成了覆盖翻译、问答、完形填空、常识推理等数十个基准的系统评测，为后续模型之间的比较建立了参照。\n"
                        "- 较早且较完整地讨论了训练数据污染、模型偏见和生成文本滥用等问题，为大模型的社会影响研究开了头。"
                    ),
                    "improvement": (
                        "与依赖任务特定微调的方法相比，GPT-3 的突破更多体现在使用方式上，而非某个单一指标：\n\n"
                        "- 数据需求：新任务只需在提示中给出少量示例，既不必收集数千条标注数据，也不需要任何梯度更新。\n"
                        "- 任务表现：在部分基准上，少样本结果已能与此前的微调最优方法一较高下。\n"
                        "- 生成质量：模型写出的新闻文章让人类评估者难以与真人撰写的文章区分开来。"
                    ),
                    "limitations": (
                        "- 作者明确承认，在一些数据集上 GPT-3 的少样本学习依然表现不佳，说明上下文学习并不能覆盖所有任务类型。\n"
                        "- 在大规模网络语料上训练带来了测试集污染等方法学问题，部分基准结果的解读需要格外谨慎。\n"
                        "- 1750 亿参数的训练与推理成本极高，复现门槛使学术界难以独立验证和深入分析。\n"
                        "- 高度逼真的文本生成能力带来虚假信息与滥用风险，论文提出了问题，却没有给出技术层面的缓解方案。"
                    ),
                    "takeaways": (
                        "- 规模本身可以成为能力的来源，许多看似需要专门设计的技能，会在足够大的模型中以“提示即编程”的形式出现。\n"
                        "- 评测范式与模型能力同样重要，零样本、单样本、少样本的分层设置让“模型能否现场学习”变得可以测量。\n"
                        "- 生成能力越强，越需要同步讨论社会影响，这篇论文把风险分析写进正文的做法值得后续工作效仿。"
                    ),
                    "summary": (
                        "GPT-3 以 1750 亿参数证明，足够大的语言模型无需微调、仅凭上下文中的少量示例即可完成多种任务，"
                        "开启了以提示和上下文学习为核心的大模型时代。"
                    ),
                },
                "figures": [
                    {
                        "caption": "图1：零样本、单样本与少样本上下文学习的提示格式示意，并与传统微调流程对照",
                        "alt": "Illustration of zero-shot, one-shot and few-shot prompting compared with conventional fine-tuning",
                    },
                    {
                        "caption": "图2：不同参数规模的模型在少样本设置下准确率随上下文示例数量变化的趋势示意",
                        "alt": "Line chart of accuracy versus number of in-context examples for several model sizes",
                    },
                    {
                        "caption": "图3：人类识别模型生成新闻文章的准确率随模型规模变化的趋势示意",
                        "alt": "Chart of human accuracy at detecting model-generated news articles across model sizes",
                    },
                ],
            },
        ],
    },
    {
        "title": "AI前沿推介(9.28)",
        "slug": "ai-frontier-2025-09-28",
        "issue_date": "2025-09-28",
        "former": {"title": "AI前沿推介(9.30)", "issue_date": "2025-09-30"},
        "summary": (
            "本期精选五篇新作：以柯尔莫哥洛夫复杂度为 Transformer 构造渐近最优的描述长度目标；"
            "把规划抽象为图上寻路，从理论上比较监督微调、策略梯度与 Q-learning 在语言模型规划中的得失；"
            "用真实伤害记录生成多模态物理安全评测，并以后训练强化模型对具身约束的推理；"
            "通过三千余次受控微调实验拆解代码数据提升推理能力的真正来源；"
            "以及只在训练期启用推理头的双头推理蒸馏，让分类器兼得精度与吞吐。"
        ),
        "tags": ["LLM", "推理", "强化学习"],
        "entries": [
            {
                "arxiv_id": "2509.22445",
                "title": (
                    "Bridging Kolmogorov Complexity and Deep Learning: Asymptotically Optimal "
                    "Description Length Objectives for Transformers"
                ),
                "authors": ["P Shaw", "J Cohan", "J Eisenstein", "K Toutanova"],
                "affiliations": ["Google DeepMind", "Google Research"],
                "abstract": (
                    "The Minimum Description Length (MDL) principle offers a formal framework for "
                    "applying Occam’s razor in machine learning. However, its application to neural "
                    "networks such as Transformers is challenging due to the lack of a principled, "
                    "universal measure for model complexity. This paper introduces the theoretical "
                    "notion of asymptotically optimal description length objectives, grounded in the "
                    "theory of Kolmogorov complexity. We establish that a minimizer of such an objective "
                    "achieves optimal compression, for any dataset, up to an additive constant, in the "
                    "limit as model resource bounds increase. We prove that asymptotically optimal "
                    "objectives exist for Transformers, building on a new demonstration of their "
                    "computational universality. We further show that such objectives can be tractable "
                    "and differentiable by constructing and analyzing a variational objective based on "
                    "an adaptive Gaussian mixture prior. Our empirical analysis shows that this "
                    "variational objective selects for a low-complexity solution with strong "
                    "generalization on an algorithmic task, but standard optimizers fail to find such "
                    "solutions from a random initialization, highlighting key optimization challenges. "
                    "More broadly, by providing a theoretical framework for identifying description "
                    "length objectives with strong asymptotic guarantees, we outline a potential path "
                    "towards training neural networks that achieve greater compression and "
                    "generalization."
                ),
                "primary_category": "cs.LG",
                "categories": [],
                "published_on": "2025-09-26",
                "title_zh": "从柯尔莫哥洛夫复杂度到深度学习：为 Transformer 构造渐近最优的描述长度目标",
                "tags": ["Transformer", "最小描述长度", "泛化"],
                "sections": {
                    "key-points": (
                        "- 最小描述长度（MDL）原则为机器学习中的奥卡姆剃刀提供了形式化表述，但用在 Transformer 等神经网络上时，一直缺少有原则且普适的模型复杂度度量。\n"
                        "- 作者以柯尔莫哥洛夫复杂度为理论根基，提出“渐近最优描述长度目标”的概念，用来界定什么样的训练目标在理论上站得住。\n"
                        "- 理论结果表明：随着模型资源上限不断放宽，此类目标的最小化解对任意数据集都能达到最优压缩，差距至多为一个加性常数。\n"
                        "- 论文给出 Transformer 计算普适性的新论证，并在此基础上证明面向 Transformer 的渐近最优目标确实存在。\n"
                        "- 通过构造并分析基于自适应高斯混合先验的变分目标，作者说明这类目标可以做到易于计算且可微，能够接入梯度训练流程。\n"
                        "- 在一个算法任务上，该目标能挑选出复杂度低、泛化强的解，但标准优化器从随机初始化出发找不到这样的解。"
                    ),
                    "gist": (
                        "本文试图为“越简单的模型越能泛化”这一直觉在神经网络中找到严格的落脚点。"
                        "作者没有再提出一种经验性的正则项，而是先从算法信息论出发，定义什么样的描述长度目标具备渐近最优性；"
                        "再证明 Transformer 满足所需的普适性条件；最后给出一个可微的变分实现，并用实验点明：目标函数选对了，优化器却未必走得到。"
                    ),
                    "innovation": (
                        "- 把柯尔莫哥洛夫复杂度的不变性思想转化为训练目标的一项可检验性质，即“渐近最优”，从而为比较不同的描述长度目标提供统一标准。\n"
                        "- 给出 Transformer 计算普适性的新证明，并把它用作连接算法信息论与具体网络架构的桥梁。\n"
                        "- 借助自适应高斯混合先验构造变分描述长度目标，在保留理论保证的同时满足可微、可优化的工程要求。"
                    ),
                    "contribution": (
                        "- 为神经网络上的 MDL 方法建立了带渐近保证的理论框架，使“某种复杂度惩罚是否合理”可以被形式化地讨论。\n"
                        "- 提供了一个可以实际计算的目标函数实例，为后续研究以压缩为导向的训练方法提供了出发点。\n"
                        "- 通过实证明确指出优化上的难题，把研究问题从“应该最小化什么”推进到“怎样才能真正找到最小值”。"
                    ),
                    "improvement": (
                        "这篇论文的进展主要体现在理论层面，可以归纳为三点：\n\n"
                        "- 保证的强度：结论对任意数据集成立，与最优压缩之间只差一个加性常数，而不是只在某个特定模型族或编码方案下成立。\n"
                        "- 从存在到可用：不仅证明 Transformer 上存在渐近最优目标，还给出一个可微的具体构造，缩短了理论与训练实践之间的距离。\n"
                        "- 经验佐证：在算法任务上，变分目标确实更偏好低复杂度、泛化强的解，说明其偏好方向与设计初衷一致。"
                    ),
                    "limitations": (
                        "- 最核心的问题在于可达性：标准优化器从随机初始化无法找到该目标所偏好的低复杂度解，理论优势暂时难以转化为实际的训练收益。\n"
                        "- 最优性是在资源上限趋于无穷的极限意义下成立的，有限规模下那个加性常数可能相当可观，对实际模型的指导力度还有待检验。\n"
                        "- 实证部分只涉及算法任务，尚未触及语言建模等大规模真实数据场景。"
                    ),
                    "takeaways": (
                        "- 一个好的目标函数需要同时回答“应当偏好什么”和“能否被找到”，两者脱节时，理论上的正确并不会自动带来实践中的收益。\n"
                        "- 计算普适性在这里不只是关于表达能力的结论，而被当作推导训练目标性质的工具，这种用表达能力理论服务于学习目标设计的思路值得借鉴。\n"
                        "- 面向压缩目标的初始化、课程学习或搜索策略可能与目标设计本身同样重要，是后续值得投入的方向。"
                    ),
                    "summary": (
                        "本文以柯尔莫哥洛夫复杂度为基础提出渐近最优描述长度目标，证明其在 Transformer 上存在且可做成可微的变分形式，"
                        "同时坦率揭示现有优化器难以找到这类目标所偏好的低复杂度解。"
                    ),
                },
                "figures": [
                    {
                        "caption": "图1：渐近最优描述长度目标的概念示意：随着资源上限放宽，最小化解的编码长度逼近柯尔莫哥洛夫复杂度",
                        "alt": "Conceptual plot of the description length of objective minimizers approaching Kolmogorov complexity as resource bounds grow",
                    },
                    {
                        "caption": "图2：基于自适应高斯混合先验的变分描述长度目标构成示意",
                        "alt": "Schematic of a variational description-length objective with an adaptive Gaussian mixture prior over network weights",
                    },
                    {
                        "caption": "图3：算法任务上低复杂度解与随机初始化训练所得解的目标值及泛化表现对比示意",
                        "alt": "Comparison of objective value and generalization for a low-complexity solution versus solutions found from random initialization",
                    },
                ],
            },
            {
                "arxiv_id": "2509.22613",
                "title": (
                    "Benefits and Pitfalls of Reinforcement Learning for Language Model Planning: "
                    "A Theoretical Perspective"
                ),
                "authors": ["S Wang", "Y Shen", "H Sun", "S Feng"],
                "affiliations": ["Microsoft Research Asia", "Peking University"],
                "abstract": (
                    "Recent reinforcement learning (RL) methods have substantially enhanced the planning "
                    "capabilities of Large Language Models (LLMs), yet the theoretical basis for their "
                    "effectiveness remains elusive. In this work, we investigate RL’s benefits and "
                    "limitations through a tractable graph-based abstraction, focusing on policy "
                    "gradient (PG) and Q-learning methods. Our theoretical analyses reveal that "
                    "supervised fine-tuning (SFT) may introduce co-occurrence-based spurious solutions, "
                    "whereas RL achieves correct planning primarily through exploration, underscoring "
                    "exploration’s role in enabling better generalization. However, we also show that PG "
                    "suffers from diversity collapse, where output diversity decreases during training "
                    "and persists even after perfect accuracy is attained. By contrast, Q-learning "
                    "provides two key advantages: off-policy learning and diversity preservation at "
                    "convergence. We further demonstrate that careful reward design is necessary to "
                    "prevent reward hacking in Q-learning. Finally, applying our framework to the "
                    "real-world planning benchmark Blocksworld, we confirm that these behaviors manifest "
                    "in practice."
                ),
                "primary_category": "cs.LG",
                "categories": [],
                "published_on": "2025-09-26",
                "title_zh": "强化学习用于语言模型规划的利与弊：一个理论视角",
                "tags": ["强化学习", "规划", "LLM"],
                "sections": {
                    "key-points": (
                        "- 近期的强化学习方法显著增强了大语言模型的规划能力，但其为何有效仍缺乏理论解释，本文借助一个可解析的图抽象来研究这一问题。\n"
                        "- 分析对象包括监督微调（SFT），以及策略梯度（PG）和 Q-learning 两类强化学习方法。\n"
                        "- 理论分析表明，SFT 可能学到基于共现关系的虚假解，而强化学习主要依靠探索才得到正确的规划，探索是其泛化更好的关键。\n"
                        "- PG 存在多样性坍缩：训练过程中输出多样性不断下降，即使训练准确率已经达到满分，这种状况也不会恢复。\n"
                        "- Q-learning 具备离策略学习和收敛时保持多样性两项优势，但必须精心设计奖励，否则容易出现奖励投机（reward hacking）。\n"
                        "- 作者把这一框架应用到 Blocksworld 规划基准上，确认上述现象在真实任务中同样会出现。"
                    ),
                    "gist": (
                        "这篇论文想回答一个实践者普遍关心、却一直缺少理论答案的问题：在语言模型的规划任务中，强化学习究竟比监督微调好在哪里，又会在什么地方出问题？"
                        "作者把规划化约为图上的路径寻找，在这一可解析的设定下分别刻画 SFT、策略梯度和 Q-learning 最终学到的解，"
                        "得出“探索带来泛化、PG 牺牲多样性、Q-learning 依赖奖励设计”三条主要结论，并在 Blocksworld 上加以印证。"
                    ),
                    "innovation": (
                        "- 以图上路径规划作为语言模型规划的抽象模型，使几种训练范式的行为可以在同一设定下严格推导和横向比较。\n"
                        "- 把 SFT 的失败归结为对共现统计的依赖，从机制层面解释了“监督微调偏记忆、强化学习偏泛化”这一经验观察。\n"
                        "- 将输出多样性纳入理论分析，证明 PG 的多样性下降在准确率饱和之后依然持续，这一点在只看准确率的评测中极易被忽视。"
                    ),
                    "contribution": (
                        "- 为强化学习提升 LLM 规划能力给出了以探索为核心的理论解释。\n"
                        "- 系统比较了 PG 与 Q-learning 的结构性差异，指出后者在利用离策略数据和保持多样性上的优势。\n"
                        "- 强调奖励设计对 Q-learning 的决定性作用，为防范奖励投机提供了理论依据。\n"
                        "- 通过 Blocksworld 实验把理论结论与真实规划基准联系起来，增强了结论的可信度。"
                    ),
                    "improvement": (
                        "本文没有提出新的训练算法，它的推进体现在对现有方法认识的精细化：\n\n"
                        "- 把“强化学习泛化更好”从经验描述推进为可以证明的结论，并明确其来源是探索，而不是奖励信号本身。\n"
                        "- 揭示了被准确率指标掩盖的多样性损失，为评估经强化学习后训练的模型补上了一个必要维度。\n"
                        "- 为在 PG 与 Q-learning 之间做选择提供了判据：需要保持多样性或复用离策略数据时，Q-learning 更具吸引力，前提是奖励设计得当。"
                    ),
                    "limitations": (
                        "- 图抽象与真实语言模型之间仍有明显距离，自然语言规划中的模糊目标、长程依赖与开放动作空间难以在这一设定中完整体现。\n"
                        "- 结论主要刻画收敛点的性质，对训练过程中的动态行为和有限样本效应着墨有限。\n"
                        "- Q-learning 的优势以“精心设计的奖励”为前提，而在许多开放任务中，如何低成本地构造这类奖励本身就是难题。\n"
                        "- 真实场景验证只覆盖 Blocksworld 一个基准，推广到代码、数学等其他需要规划的任务还需要更多证据。"
                    ),
                    "takeaways": (
                        "- 用强化学习做后训练时，除了准确率，还应持续监控输出多样性，否则模型可能在“全对”的表象下逐渐失去探索其他解法的能力。\n"
                        "- 监督数据只能教会模型见过的组合，探索才是模型获得训练集之外正确路径的来源，这为在后训练中保留足够的探索预算提供了理由。\n"
                        "- 值函数方法在 LLM 后训练中长期处于边缘，本文的分析提示，离策略且能保持多样性的 Q-learning 值得重新审视。"
                    ),
                    "summary": (
                        "本文以图上路径规划为抽象，从理论上说明强化学习胜过监督微调主要源于探索，同时指出策略梯度会导致持续的多样性坍缩，"
                        "而奖励设计得当的 Q-learning 可以兼顾离策略学习与解的多样性。"
                    ),
                },
                "figures": [
                    {
                        "caption": "图1：以图上路径寻找抽象语言模型规划任务的框架示意",
                        "alt": "Schematic of planning abstracted as path finding on a graph, with source, target and intermediate nodes",
                    },
                    {
                        "caption": "图2：策略梯度训练中准确率与输出多样性随训练步数变化的趋势示意",
                        "alt": "Training curves showing accuracy saturating while output diversity keeps decreasing under policy gradient",
                    },
                    {
                        "caption": "图3：Blocksworld 基准上监督微调、策略梯度与 Q-learning 的表现对比示意",
                        "alt": "Bar chart comparing SFT, policy gradient and Q-learning on the Blocksworld planning benchmark",
                    },
                ],
            },
            {
                "arxiv_id": "2509.21651",
                "title": "Can AI Perceive Physical Danger and Intervene?",
                "authors": ["A Jindal", "D Kalashnikov", "O Chang", "D Garikapati"],
                "affiliations": ["Google DeepMind Robotics"],
                "abstract": (
                    "When AI interacts with the physical world — as a robot or an assistive agent — new "
                    "safety challenges emerge beyond those of purely “digital AI”. In such interactions, "
                    "the potential for physical harm is direct and immediate. How well do "
                    "state-of-the-art foundation models understand common-sense facts about physical "
                    "safety, e.g. that a box may be too heavy to lift, or that a hot cup of coffee "
                    "should not be handed to a child? In this paper, our contributions are threefold: "
                    "first, we develop a highly scalable approach to continuous physical safety "
                    "benchmarking of Embodied AI systems, grounded in real-world injury narratives and "
                    "operational safety constraints. To probe multi-modal safety understanding, we turn "
                    "these narratives and constraints into photorealistic images and videos capturing "
                    "transitions from safe to unsafe states, using advanced generative models. Secondly, "
                    "we comprehensively analyze the ability of major foundation models to perceive "
                    "risks, reason about safety, and trigger interventions; this yields multi-faceted "
                    "insights into their deployment readiness for safety-critical agentic "
                    "applications. Finally, we develop a post-training paradigm to teach models to "
                    "explicitly reason about embodiment-specific safety constraints provided through "
                    "system instructions. The resulting models generate thinking traces that make "
                    "safety reasoning interpretable and transparent, achieving state of the art "
                    "performance in constraint satisfaction evaluations."
                ),
                "primary_category": "cs.LG",
                "categories": [],
                "published_on": "2025-09-26",
                "title_zh": "AI 能否察觉物理危险并及时干预？",
                "tags": ["安全", "具身智能", "多模态"],
                "sections": {
                    "key-points": (
                        "- 当 AI 以机器人或辅助智能体的形式进入物理世界，潜在伤害变得直接而即时，安全问题因此超出了纯数字场景的范畴。\n"
                        "- 作者提出一种可大规模扩展、可持续更新的具身 AI 物理安全评测方法，其素材来自真实的伤害叙述与操作安全约束。\n"
                        "- 借助先进的生成模型，这些叙述和约束被转换为逼真的图像与视频，专门呈现从安全状态滑向危险状态的过程，用于检验模型的多模态安全理解。\n"
                        "- 论文系统评估了主流基础模型感知风险、进行安全推理和触发干预的能力，从多个侧面考察其能否胜任安全攸关的智能体应用。\n"
                        "- 作者还提出一种后训练范式，教模型针对系统指令中给出的具身约束进行显式推理，所得模型在约束满足评测上达到最优水平，其思考轨迹也让安全判断变得可解释。"
                    ),
                    "gist": (
                        "论文关注的是基础模型能否理解那些人类习以为常的物理安全常识——例如箱子太重不宜搬起、热咖啡不应递给孩子——并在关键时刻作出干预。"
                        "为此，作者把真实伤害记录和操作安全约束转化为文本、图像和视频形式的测试场景，为当前主流模型做一次全面“体检”，"
                        "再通过后训练让模型学会围绕具体的身体与设备约束展开显式推理。"
                    ),
                    "innovation": (
                        "- 以真实世界的伤害叙述和操作安全约束作为场景种子，再用生成模型批量合成多模态测试样本，使评测既贴近真实风险，又能持续扩充。\n"
                        "- 特意生成“由安全转为不安全”的过渡性图像与视频，考察模型能否在危险发生之前识别征兆，而不只是判断静态画面。\n"
                        "- 把安全约束写进系统指令，并训练模型围绕这些具身特定的约束生成思考轨迹，使安全推理从隐式判断变为显式、可审查的过程。"
                    ),
                    "contribution": (
                        "- 提供了一套面向具身 AI 的可扩展物理安全评测构建方法，弥补了以往安全研究偏重数字危害的空白。\n"
                        "- 从风险感知、安全推理与干预触发三个方面对主流基础模型进行多维度评估，为判断其能否部署到安全攸关场景提供了依据。\n"
                        "- 验证了以显式推理为核心的后训练方法能够提升约束满足能力，并同时带来可解释性。"
                    ),
                    "improvement": (
                        "与以文本问答为主的既有安全评测相比，这项工作在评测广度和模型能力两方面都向前迈了一步：\n\n"
                        "- 评测覆盖从文本扩展到逼真的图像和视频，能够检验模型在动态过程中识别危险、把握干预时机的能力。\n"
                        "- 经过后训练的模型在约束满足评测中取得最优成绩，说明针对具身约束的显式推理可以被有效地教会。\n"
                        "- 思考轨迹让每一次安全判断都有据可查，便于开发者审计模型为何拒绝或执行某个动作。"
                    ),
                    "limitations": (
                        "- 图像和视频场景由生成模型合成，可能带有生成伪影或物理细节失真，与真实传感器输入之间存在分布差异。\n"
                        "- 评估集中在感知与推理层面，模型判断正确并不等于机器人在闭环控制中能安全执行，执行层面的风险尚未覆盖。\n"
                        "- 用生成模型构建评测、再用它评测同类基础模型，可能让生成器的偏好与被测模型的能力相互纠缠。\n"
                        "- 基础模型迭代极快，评测结论具有时效性，需要依靠其可持续更新的流程不断刷新。"
                    ),
                    "takeaways": (
                        "- 物理安全常识看似简单，却恰恰是在数字语料中稀疏、在真实世界中代价最高的知识，需要专门的数据与评测来补齐。\n"
                        "- 把安全约束写进系统指令并要求模型显式推理，是一种易于工程落地、又便于审计的对齐方式，对机器人产品开发有直接的参考价值。\n"
                        "- 具身场景中的安全判断本质上是时序问题：模型不仅要认出危险，还要在状态恶化之前触发干预，因此评测设计应覆盖动态过程，而非只做静态分类。"
                    ),
                    "summary": (
                        "本文以真实伤害叙述和安全约束为源头生成多模态物理安全评测，检验基础模型的风险感知与干预能力，"
                        "并通过教模型显式推理具身约束的后训练，在约束满足评测上取得了最优且可解释的表现。"
                    ),
                },
                "figures": [
                    {
                        "caption": "图1：从真实伤害叙述与安全约束出发，经生成模型合成文本、图像与视频测试场景的流程示意",
                        "alt": "Pipeline diagram: injury narratives and safety constraints turned into text, image and video scenarios by generative models",
                    },
                    {
                        "caption": "图2：视频场景中由安全状态过渡到危险状态的过程及干预时机示意",
                        "alt": "Video frames showing a transition from a safe to an unsafe state, with the point of intervention marked",
                    },
                    {
                        "caption": "图3：主流基础模型在约束满足评测中的违反率对比示意",
                        "alt": "Bar chart of constraint violation rates for several foundation models before and after post-training",
                    },
                ],
            },
            {
                "arxiv_id": "2509.21499",
                "title": "On Code-Induced Reasoning in LLMs",
                "authors": ["A Waheed", "Z Wu", "C Rosé", "D Ippolito"],
                "affiliations": ["CMU"],
                "abstract": (
                    "Code data has been shown to enhance the reasoning capabilities of large language "
                    "models (LLMs), but it remains unclear which aspects of code are most responsible. "
                    "We investigate this question with a systematic, data-centric framework. We "
                    "construct parallel instruction datasets in ten programming languages and apply "
                    "controlled perturbations that selectively disrupt structural or semantic properties "
                    "of code. We then finetune LLMs from five model families and eight scales on each "
                    "variant and evaluate their performance on natural language, math, and code tasks. "
                    "Across 3,331 experiments, our results show that LLMs are more vulnerable to "
                    "structural perturbations than semantic ones, particularly on math and code tasks. "
                    "Appropriate abstractions like pseudocode and flowcharts can be as effective as "
                    "code, while encoding the same information with fewer tokens without adhering to "
                    "original syntax can often retain or even improve performance. Remarkably, even "
                    "corrupted code with misleading signals remains competitive when surface-level "
                    "regularities persist. Finally, syntactic styles also shape task-specific gains "
                    "with Python favoring natural language reasoning and lower-level languages such as "
                    "Java and Rust favoring math. Through our systematic framework, we aim to provide "
                    "insight into how different properties of code influence reasoning and inform the "
                    "design of training data for enhancing LLM reasoning capabilities."
                ),
                "primary_category": "cs.CL",
                "categories": [],
                "published_on": "2025-09-26",
                "title_zh": "探究代码数据如何诱导大语言模型的推理能力",
                "tags": ["推理", "代码", "LLM"],
                "sections": {
                    "key-points": (
                        "- 代码数据能增强大语言模型的推理能力已有共识，但究竟是代码的哪些特性在起作用仍不清楚，本文以数据为中心对此进行系统拆解。\n"
                        "- 作者构建了覆盖十种编程语言、内容一一对应的指令数据，并施加受控扰动，有选择地分别破坏代码的结构属性或语义属性。\n"
                        "- 在五个模型家族、八种规模上对每个数据变体进行微调，并在自然语言、数学和代码三类任务上评测，累计完成 3,331 组实验。\n"
                        "- 结果显示，模型对结构扰动比对语义扰动更敏感，这一差异在数学和代码任务上尤为明显。\n"
                        "- 伪代码、流程图这类合适的抽象形式，效果可与真实代码相当；不拘泥于原有语法、用更少 token 表达相同信息，往往能保持甚至提升效果。\n"
                        "- 即使代码带有误导性信号，只要表层规律仍在，微调效果依然具有竞争力；此外，Python 更利于自然语言推理，Java、Rust 等较底层的语言则更利于数学。"
                    ),
                    "gist": (
                        "本文把“代码为什么能提升推理”这个笼统的问题拆成若干可以检验的变量：起作用的是结构还是语义，必须是原始代码还是抽象表示也行，不同语言风格又有何差别。"
                        "作者用并行数据和受控扰动逐一隔离这些因素，在大规模微调实验中观察它们对不同类型推理任务的影响，"
                        "最终希望为构建提升 LLM 推理能力的训练数据提供可操作的依据。"
                    ),
                    "innovation": (
                        "- 以十种编程语言、内容一一对应的指令数据作为实验底座，让不同语言之间只在语法风格上有差异，从而可以干净地比较语言本身的影响。\n"
                        "- 设计针对性的受控扰动，把代码的结构属性与语义属性分开破坏，实现对两者贡献的解耦测量。\n"
                        "- 将伪代码、流程图等不可执行的抽象形式纳入比较，检验推理收益是否必须来自真实代码。"
                    ),
                    "contribution": (
                        "- 给出大规模实证证据，表明代码中的结构规律是推理收益的主要来源，语义信息的作用相对次要。\n"
                        "- 发现更紧凑的抽象表示可以替代原始代码，为降低训练数据的 token 成本指明了方向。\n"
                        "- 揭示不同编程语言对不同任务的差异化收益，为按目标任务配比代码数据提供了参考。"
                    ),
                    "improvement": (
                        "作为一项分析型研究，本文的推进主要在于把经验直觉变成了可以量化的结论：\n\n"
                        "- 3,331 组实验覆盖多个模型家族与规模，使“结构比语义更重要”的结论不依赖于某一个特定模型。\n"
                        "- 证明不遵循原始语法、以更少 token 编码相同信息往往可以保持甚至提升推理表现，为训练数据的压缩与精炼提供了实证支持。\n"
                        "- 区分出 Python 与 Java、Rust 等语言在自然语言推理和数学推理上的不同优势，使代码数据的挑选可以更有针对性。"
                    ),
                    "limitations": (
                        "- 研究聚焦于指令微调阶段，预训练时引入代码数据，其作用机制可能有所不同，结论未必能直接外推。\n"
                        "- 十种语言的并行数据难以完全由人工编写，数据的生成方式可能带入特定的风格偏好，进而影响跨语言比较的公平性。\n"
                        "- 结构与语义的划分依赖人为定义的扰动方式，某些属性（如控制流的复杂程度）可能同时属于两类，难以彻底解耦。\n"
                        "- “带误导信号的代码依然有竞争力”也提示，现有评测可能更多衡量了格式层面的学习，它是否代表真正的推理提升仍值得追问。"
                    ),
                    "takeaways": (
                        "- 对推理能力而言，代码的价值更像一种严格的组织形式：缩进、代码块和控制流把逻辑步骤显式化，这种形式可以迁移到非代码任务上。\n"
                        "- 构建推理训练数据时，与其追求可执行、无错误的代码，不如优先保证结构清晰、信息密度高，伪代码一类的抽象形式性价比更高。\n"
                        "- 模型对误导性语义的宽容提醒我们，在解释微调收益时要警惕“学到的是格式而非内容”的可能，严谨的对照实验不可或缺。"
                    ),
                    "summary": (
                        "通过 3,331 组受控微调实验，本文发现代码提升 LLM 推理能力主要依靠其结构规律而非语义内容，"
                        "伪代码等紧凑的抽象同样有效，而不同编程语言对自然语言推理与数学推理各有所长。"
                    ),
                },
                "figures": [
                    {
                        "caption": "图1：十种编程语言并行数据的构建流程，以及结构、语义受控扰动的实验框架示意",
                        "alt": "Framework diagram: parallel instruction data in ten languages with structural and semantic perturbations, followed by finetuning and evaluation",
                    },
                    {
                        "caption": "图2：结构扰动与语义扰动在自然语言、数学、代码任务上造成的性能变化对比示意",
                        "alt": "Grouped bar chart comparing performance drops under structural versus semantic perturbations across task types",
                    },
                    {
                        "caption": "图3：伪代码、流程图等抽象表示与原始代码的效果及 token 数量对比示意",
                        "alt": "Scatter plot of accuracy versus token count for original code, pseudocode and flowchart variants",
                    },
                ],
            },
            {
                "arxiv_id": "2509.21487",
                "title": (
                    "Dual-Head Reasoning Distillation: Improving Classifier Accuracy with "
                    "Train-Time-Only Reasoning"
                ),
                "authors": ["J Xu", "D Zhou", "V Shukla", "Y Yang"],
                "affiliations": ["Google"],
                "abstract": (
                    "Chain-of-Thought (CoT) prompting often improves classification accuracy, but it "
                    "introduces a significant throughput penalty with rationale generation (Wei et al., "
                    "2022; Cheng and Van Durme, 2024). To resolve this trade-off, we introduce Dual-Head "
                    "Reasoning Distillation (DHRD), a simple training method for decoder-only language "
                    "models (LMs) that adds (i) a pooled classification head used during training and "
                    "inference and (ii) a reasoning head supervised by teacher rationales used only in "
                    "training. We train with a loss function that is a weighted sum of label "
                    "cross-entropy and token-level LM loss over input-plus-rationale sequences. On seven "
                    "SuperGLUE tasks, DHRD yields relative gains of 0.65-5.47% over pooled baselines, "
                    "with notably larger gains on entailment/causal tasks. Since we disable the "
                    "reasoning head at test time, inference throughput matches pooled classifiers and "
                    "exceeds CoT decoding on the same backbones by 96-142 times in QPS."
                ),
                "primary_category": "cs.CL",
                "categories": [],
                "published_on": "2025-09-26",
                "title_zh": "双头推理蒸馏：只在训练阶段推理，即可提升分类器准确率",
                "tags": ["蒸馏", "推理", "LLM"],
                "sections": {
                    "key-points": (
                        "- 思维链提示常能提高分类准确率，但逐条生成理由会大幅拖慢推理吞吐，本文正是针对这一精度与速度的权衡提出解决方案。\n"
                        "- 双头推理蒸馏（DHRD）在仅解码器语言模型上增加两个头：训练和推理时都使用的池化分类头，以及只在训练时使用、由教师模型理由监督的推理头。\n"
                        "- 训练目标把标签交叉熵与“输入加理由”序列上的逐 token 语言建模损失按权重相加，让共享主干同时学习分类与复现理由。\n"
                        "- 在七个 SuperGLUE 任务上，DHRD 相对池化基线取得 0.65% 至 5.47% 的相对提升，在蕴含类与因果类任务上的收益明显更大。\n"
                        "- 测试时关闭推理头，推理吞吐与普通池化分类器持平，在相同主干上的每秒查询数（QPS）比思维链解码高出 96 到 142 倍。"
                    ),
                    "gist": (
                        "这篇论文的思路是把思维链的成本从推理阶段整体挪到训练阶段：训练时让模型一边做分类，一边学习复现教师模型给出的理由，"
                        "借此把推理过程中蕴含的知识蒸馏进共享表示；部署时只保留轻量的分类头，不生成任何文本。"
                        "这样既吸收了推理带来的准确率收益，又保住了传统分类器的低延迟与高吞吐。"
                    ),
                    "innovation": (
                        "- 将“学习推理”与“执行推理”分离，理由只作为训练期的辅助监督信号出现，推理时完全不生成。\n"
                        "- 在同一个解码器主干上并置池化分类头与语言模型推理头，用一个加权联合损失同时优化，结构简单，易于接入现有训练流程。\n"
                        "- 以教师模型生成的理由作为监督来源，把大模型的思维链能力蒸馏为分类器的内部表征，而不是蒸馏为需要输出的文本。"
                    ),
                    "contribution": (
                        "- 提供了一种几乎不增加部署成本的准确率提升手段，适合对延迟和吞吐敏感的线上分类场景。\n"
                        "- 在七项 SuperGLUE 任务上系统对比了准确率与吞吐，量化了相对思维链解码约两个数量级的速度优势。\n"
                        "- 表明理由监督对蕴含、因果等需要多步推断的任务尤其有帮助，为判断何时值得引入推理蒸馏提供了线索。"
                    ),
                    "improvement": (
                        "DHRD 的提升可以从精度、效率和部署三条线来看：\n\n"
                        "- 精度：七个 SuperGLUE 任务上相对池化基线提升 0.65% 至 5.47%，蕴含与因果类任务受益最多。\n"
                        "- 效率：推理阶段不生成任何理由，吞吐与池化分类器一致，比同一主干上的思维链解码快 96 到 142 倍。\n"
                        "- 部署：最终交付的只是一个普通分类器，可以直接替换线上服务中的现有分类模型，无需改动推理基础设施。"
                    ),
                    "limitations": (
                        "- 方法依赖教师模型提供的理由，若理由存在错误或与标签不一致，辅助损失可能把噪声一并蒸馏进学生模型。\n"
                        "- 两项损失的加权系数需要调节，不同规模模型的最佳配比可能不同，增加了调参成本。\n"
                        "- 评测局限于 SuperGLUE 的英文分类任务，对多语言、长文本或多标签等更复杂的分类场景尚无证据。\n"
                        "- 部署时不输出理由，也就放弃了思维链原本提供的可解释性，在必须给出判断依据的场景中并不适用。"
                    ),
                    "takeaways": (
                        "- 思维链的价值不一定要在推理时兑现，把它当作训练期的额外监督同样能改善模型的内部表示，这为推理蒸馏提供了一种低成本的落地方式。\n"
                        "- 先用强模型离线生成理由、再训练只输出标签的轻量模型，是兼顾效果与线上成本的务实路线。\n"
                        "- 收益集中在蕴含与因果类任务，说明是否引入理由监督应视任务所需的推理深度而定，而非一概而论。"
                    ),
                    "summary": (
                        "DHRD 借助一个只在训练阶段启用、由教师理由监督的推理头，把思维链的收益蒸馏进池化分类器，"
                        "在 SuperGLUE 上提升准确率的同时保持与普通分类器相同的推理吞吐。"
                    ),
                },
                "figures": [
                    {
                        "caption": "图1：双头推理蒸馏架构示意：共享的解码器主干同时连接池化分类头与仅在训练期使用的推理头",
                        "alt": "Architecture diagram of a decoder-only backbone with a pooled classification head and a train-only reasoning head",
                    },
                    {
                        "caption": "图2：DHRD、池化基线与思维链解码在准确率和每秒查询数上的对比示意",
                        "alt": "Chart comparing accuracy and queries per second for DHRD, the pooled baseline and CoT decoding",
                    },
                ],
            },
        ],
    },
]
