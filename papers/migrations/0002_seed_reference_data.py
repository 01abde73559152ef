"""Seed the eight critique section kinds of the digest and the arXiv categories we cover.

Editors may rename, reorder or add to both afterwards; this migration only creates rows
that are missing, and its reverse removes nothing an editor may have come to rely on.
"""

from django.db import migrations

SECTION_KINDS = [
    # slug, Chinese, English, order, bullet list?, importer aliases
    ("key-points", "要点", "Key points", 10, True, "重点,要点总结,Key points,Highlights"),
    ("gist", "主旨", "Gist", 20, False, "主要内容,核心思想,Gist,Main idea"),
    ("innovation", "创新", "Innovation", 30, True, "创新点,Innovation,Innovations,Novelty"),
    ("contribution", "贡献", "Contribution", 40, True, "主要贡献,Contribution,Contributions"),
    ("improvement", "提升", "Improvement", 50, False, "改进,Improvement,Improvements"),
    ("limitations", "不足", "Limitations", 60, True, "局限,局限性,缺点,Limitations,Weaknesses"),
    ("takeaways", "心得", "Takeaways", 70, True, "启发,感想,Takeaways,Insights"),
    ("summary", "一句话总结", "One-line summary", 80, False, "总结,一句话概括,Summary,TL;DR"),
]

CATEGORIES = [
    ("cs.AI", "Artificial Intelligence", "人工智能"),
    ("cs.AR", "Hardware Architecture", "硬件体系结构"),
    ("cs.CC", "Computational Complexity", "计算复杂性"),
    ("cs.CE", "Computational Engineering, Finance, and Science", "计算工程、金融与科学"),
    ("cs.CG", "Computational Geometry", "计算几何"),
    ("cs.CL", "Computation and Language", "计算与语言"),
    ("cs.CR", "Cryptography and Security", "密码学与安全"),
    ("cs.CV", "Computer Vision and Pattern Recognition", "计算机视觉与模式识别"),
    ("cs.CY", "Computers and Society", "计算机与社会"),
    ("cs.DB", "Databases", "数据库"),
    ("cs.DC", "Distributed, Parallel, and Cluster Computing", "分布式、并行与集群计算"),
    ("cs.DL", "Digital Libraries", "数字图书馆"),
    ("cs.DM", "Discrete Mathematics", "离散数学"),
    ("cs.DS", "Data Structures and Algorithms", "数据结构与算法"),
    ("cs.ET", "Emerging Technologies", "新兴技术"),
    ("cs.FL", "Formal Languages and Automata Theory", "形式语言与自动机理论"),
    ("cs.GL", "General Literature", "综合文献"),
    ("cs.GR", "Graphics", "图形学"),
    ("cs.GT", "Computer Science and Game Theory", "计算机科学与博弈论"),
    ("cs.HC", "Human-Computer Interaction", "人机交互"),
    ("cs.IR", "Information Retrieval", "信息检索"),
    ("cs.IT", "Information Theory", "信息论"),
    ("cs.LG", "Machine Learning", "机器学习"),
    ("cs.LO", "Logic in Computer Science", "计算机科学中的逻辑"),
    ("cs.MA", "Multiagent Systems", "多智能体系统"),
    ("cs.MM", "Multimedia", "多媒体"),
    ("cs.MS", "Mathematical Software", "数学软件"),
    ("cs.NA", "Numerical Analysis", "数值分析"),
    ("cs.NE", "Neural and Evolutionary Computing", "神经与演化计算"),
    ("cs.NI", "Networking and Internet Architecture", "网络与互联网架构"),
    ("cs.OH", "Other Computer Science", "其他计算机科学"),
    ("cs.OS", "Operating Systems", "操作系统"),
    ("cs.PF", "Performance", "性能"),
    ("cs.PL", "Programming Languages", "程序设计语言"),
    ("cs.RO", "Robotics", "机器人学"),
    ("cs.SC", "Symbolic Computation", "符号计算"),
    ("cs.SD", "Sound", "声音"),
    ("cs.SE", "Software Engineering", "软件工程"),
    ("cs.SI", "Social and Information Networks", "社会与信息网络"),
    ("cs.SY", "Systems and Control", "系统与控制"),
    ("stat.ML", "Machine Learning (Statistics)", "统计机器学习"),
    ("eess.AS", "Audio and Speech Processing", "音频与语音处理"),
    ("eess.IV", "Image and Video Processing", "图像与视频处理"),
    ("eess.SP", "Signal Processing", "信号处理"),
]


def seed(apps, schema_editor):
    SectionKind = apps.get_model("papers", "SectionKind")
    Category = apps.get_model("papers", "Category")
    SiteSettings = apps.get_model("papers", "SiteSettings")
    for slug, name_zh, name_en, order, is_list, aliases in SECTION_KINDS:
        SectionKind.objects.get_or_create(
            slug=slug,
            defaults={
                "name_zh": name_zh,
                "name_en": name_en,
                "order": order,
                "is_list": is_list,
                "aliases": aliases,
            },
        )
    for code, name, name_zh in CATEGORIES:
        Category.objects.get_or_create(code=code, defaults={"name": name, "name_zh": name_zh})
    SiteSettings.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("papers", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
