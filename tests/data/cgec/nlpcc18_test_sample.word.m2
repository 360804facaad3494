S 冬阴功 是 泰国 最 著名 的 菜 之一 ， 它 虽然 不 是 很 豪华 ， 但 它 的 味 确实 让 人 上瘾 ， 做法 也 不 难 、 不 复杂 。
A 9 11|||W|||虽然 它|||REQUIRED|||-NONE-|||0

S 首先 ， 我们 得 准备 : 大虾 六 到 九 只 、 盐 一 茶匙 、 已 搾好 的 柠檬汁 三 汤匙 、 泰国 柠檬叶 三 叶 、 柠檬 香草 一 根 、 鱼 酱 两 汤匙 、 辣椒 6 粒 ， 纯净水 4 量 杯 、 香菜 半量 杯 和 草菇 10 个 。
A 17 18|||S:SPELL|||榨 好|||REQUIRED|||-NONE-|||0
A 39 40|||S:NUM|||六|||REQUIRED|||-NONE-|||0
A 43 44|||S:NUM|||四|||REQUIRED|||-NONE-|||0
A 52 53|||S:NUM|||十|||REQUIRED|||-NONE-|||0

S 这样 ， 你 就 会 尝 到 泰国 人 死 爱 的 味道 。
A 9 11|||W|||爱 死|||REQUIRED|||-NONE-|||0

S 另外 ， 冬阴功 对 外国人 的 喜爱 不断 地 增加 。
A 2 5|||W|||外国人 对 冬阴功|||REQUIRED|||-NONE-|||0

S 这部 电影 不仅 是 国内 ， 在 国外 也 很 有名 。
A 4 4|||M:PREP|||在|||REQUIRED|||-NONE-|||0
A 3 4|||S:PREP|||在|||REQUIRED|||-NONE-|||1

S 不管 是 真正 的 冬 阴功 还是 电影 的 “ 冬 阴功 ” ， 都 在 人们 的 心里 刻骨铭心 。
A 14 16|||R:OTHER|||-NONE-|||REQUIRED|||-NONE-|||0
A 17 19|||S:ADV|||都|||REQUIRED|||-NONE-|||0
A 8 8|||M:NOUN|||中|||REQUIRED|||-NONE-|||1
A 15 16|||S:VERB|||使|||REQUIRED|||-NONE-|||1
A 17 19|||R:OTHER|||-NONE-|||REQUIRED|||-NONE-|||1

S 随着 中国 经济 突飞猛近 ， 建造 工业 与日俱增 。
A 3 4|||S:SPELL|||突飞猛进|||REQUIRED|||-NONE-|||0

S 虽然 工业 的 发展 和 城市 规模 的 扩大 对 经济 发展 有 积极 作用 ， 但是 同时 也 对 环境 问题 日益 严重 造成 了 空气 污染 问题 。
A 21 22|||S:OTHER|||造成 了|||REQUIRED|||-NONE-|||0
A 24 26|||S:AUX|||的|||REQUIRED|||-NONE-|||0
A 21 22|||S:OTHER|||造成 了|||REQUIRED|||-NONE-|||1
A 24 27|||S:AUX|||的|||REQUIRED|||-NONE-|||1

S 那些 空气 污染 也 没有 助于 人生 的 身体 建康 。
A 4 7|||S:OTHER|||无助于 人|||REQUIRED|||-NONE-|||0
A 9 10|||S:SPELL|||健康|||REQUIRED|||-NONE-|||0

S 由此可见 ， 首先 我们 要 了解 一些 关于 空气 污染 对 我们 人生 有 什么 危害 的 话题 知道 了 这些 常识 以后 对 我们 人类 会 有 积极 作用 。 以及 要 学会 怎样 应对 和 治理 空气 污染 的 问题 。
A 12 13|||S:NOUN|||人体|||REQUIRED|||-NONE-|||0
A 18 18|||M:PUNCT|||——|||REQUIRED|||-NONE-|||0
A 19 20|||R:AUX|||-NONE-|||REQUIRED|||-NONE-|||0
A 22 23|||R:NOUN|||-NONE-|||REQUIRED|||-NONE-|||0
A 30 31|||S:PUNCT|||，|||REQUIRED|||-NONE-|||0
A 12 13|||S:NOUN|||人体|||REQUIRED|||-NONE-|||1
A 18 18|||M:PUNCT|||——|||REQUIRED|||-NONE-|||1
A 19 20|||R:AUX|||-NONE-|||REQUIRED|||-NONE-|||1
A 22 23|||R:NOUN|||-NONE-|||REQUIRED|||-NONE-|||1
A 30 31|||S:PUNCT|||，|||REQUIRED|||-NONE-|||1
A 31 32|||S:CONJ|||其次|||REQUIRED|||-NONE-|||1

S 任何 事情 都 是 各 有 利弊 ， 众所周知 越 建立 工业 越 对 经济 方面 有所 发展 。
A 10 11|||S:VERB|||发展|||REQUIRED|||-NONE-|||0
A 12 14|||S:PUNCT|||，|||REQUIRED|||-NONE-|||0
A 16 16|||M:OTHER|||就 越|||REQUIRED|||-NONE-|||0
A 7 7|||M:AUX|||的|||REQUIRED|||-NONE-|||1
A 10 11|||S:VERB|||发展|||REQUIRED|||-NONE-|||1
A 12 14|||S:PUNCT|||，|||REQUIRED|||-NONE-|||1
A 16 16|||M:OTHER|||就 越|||REQUIRED|||-NONE-|||1

S 对 我 看来 ， 曼古 空气 污染 的 问题 与日俱增 。
A 0 1|||S:PREP|||在|||REQUIRED|||-NONE-|||0

S 每天 会 有 不少 的 毒 气体 泄漏 从 工厂 里 出来 。
A 5 6|||S:VERB|||有毒|||REQUIRED|||-NONE-|||0
A 7 11|||W|||从 工厂 里 泄漏|||REQUIRED|||-NONE-|||0
A 5 6|||S:VERB|||有毒|||REQUIRED|||-NONE-|||1
A 7 11|||W|||从 工厂 里 泄露|||REQUIRED|||-NONE-|||1

S 在 工厂 里 的 工作 人员 为了 工作 ， 而 每天 吸 了 不少 的 毒气体 ， 经过 了 一 年 多 的 时间 ， 连 工作 人员 也 得了 严重 的 病 。 更 不用 说 住 在 这家 工厂 近 的 家庭 。
A 9 10|||R:CONJ|||-NONE-|||REQUIRED|||-NONE-|||0
A 15 16|||S:OTHER|||有毒 气体|||REQUIRED|||-NONE-|||0
A 33 34|||S:PUNCT|||，|||REQUIRED|||-NONE-|||0
A 38 39|||S:OTHER|||得 离|||REQUIRED|||-NONE-|||0
A 9 10|||R:CONJ|||-NONE-|||REQUIRED|||-NONE-|||1
A 15 16|||S:OTHER|||有毒 气体|||REQUIRED|||-NONE-|||1
A 33 34|||S:PUNCT|||，|||REQUIRED|||-NONE-|||1
A 41 42|||S:NOUN|||附近|||REQUIRED|||-NONE-|||1

S 沙尘暴 也 是 一 类 空气 污染 之一 。
A 7 8|||R:PRON|||-NONE-|||REQUIRED|||-NONE-|||0
A 3 5|||R:OTHER|||-NONE-|||REQUIRED|||-NONE-|||1

S 不 官 是 从 口 、 眼 、 鼻子 进去 这样 会 伤害 身体 的 建康 。
A 0 2|||S:SPELL|||不管|||REQUIRED|||-NONE-|||0
A 7 8|||S:CONJ|||还是|||REQUIRED|||-NONE-|||0
A 10 11|||S:OTHER|||， 都|||REQUIRED|||-NONE-|||0
A 15 16|||S:SPELL|||健康|||REQUIRED|||-NONE-|||0

S 这样 做 会 避免 受到 沙尘暴 。
A 6 6|||M:OTHER|||的 危害|||REQUIRED|||-NONE-|||0

S 最后 ， 要 关主 一些 关于 天气 预报 的 新闻 。
A 3 4|||S:SPELL|||关注|||REQUIRED|||-NONE-|||0

S 中国 ， 悠久 的 历史 ， 灿烂 的 文化 ， 真是 在 历史 上 最 难忘 的 国家 。
A 2 2|||M:VERB|||拥有|||REQUIRED|||-NONE-|||0
A 14 14|||M:OTHER|||让 人|||REQUIRED|||-NONE-|||0

S 对 一个 生名 来说 空气 污染 是 很 危害 的 问题 ， 对 身体 不好 。
A 2 3|||S:SPELL|||生命|||REQUIRED|||-NONE-|||0
A 7 7|||M:VERB|||有|||REQUIRED|||-NONE-|||0
A 8 8|||M:ADJ|||大|||REQUIRED|||-NONE-|||0
A 2 3|||S:SPELL|||生命|||REQUIRED|||-NONE-|||1
A 8 8|||M:VERB|||有|||REQUIRED|||-NONE-|||1
A 10 11|||R:NOUN|||-NONE-|||REQUIRED|||-NONE-|||1

S 抽烟 对 身体 非常 不好 ， 对 身体 非常 危害 。
A 8 10|||W|||危害 非常|||REQUIRED|||-NONE-|||0
A 10 10|||M:ADJ|||大|||REQUIRED|||-NONE-|||0

S 在 中国 ， 不 官 是 谁 ， 都 抽烟 。
A 3 5|||S:SPELL|||不管|||REQUIRED|||-NONE-|||0

S 但是 医生 说 ， 他 的 身体 是 跟 抽烟 的 人 完全 一样 ， 好像 抽烟 抽 得 六十 年 一样 。
A 7 8|||R:VERB|||-NONE-|||REQUIRED|||-NONE-|||0
A 18 19|||S:AUX|||了|||REQUIRED|||-NONE-|||0

S 在 证治 方面 空气 污染 也 很 不好 。
A 1 2|||S:SPELL|||政治|||REQUIRED|||-NONE-|||0

S 现在 人们 会 认为 中国 ， 持别 是 北京 ， 没有 “ 自然 ” 的 感觉 。
A 6 7|||S:SPELL|||特别|||REQUIRED|||-NONE-|||0

S 例如 ， 天气 非常 好 的 时候 比 天气 非常 不好 的 时候 完全 不 一样 。 天气 好 时 大部分 的 人 会 高兴 。
A 7 8|||S:CONJ|||和|||REQUIRED|||-NONE-|||0
A 16 17|||S:PUNCT|||:|||REQUIRED|||-NONE-|||0

S 工业 发展 是 好 东西 ， 但是 好 的 东西 也 有 不好 的 东西 。
A 14 15|||S:NOUN|||方面|||REQUIRED|||-NONE-|||0
A 14 15|||S:NOUN|||一面|||REQUIRED|||-NONE-|||1

S 工业 发展 把 中国 当 个 很 强 的 国家 。
A 4 5|||S:VERB|||变成|||REQUIRED|||-NONE-|||0
A 5 6|||S:NUM|||一个|||REQUIRED|||-NONE-|||0

S 北京 的 空气 太 污染 了 ， 泛 在 北京 的 人 一定 要 注意 ， 别 抽烟 。
A 3 5|||W|||污染 太|||REQUIRED|||-NONE-|||0
A 5 5|||M:ADJ|||严重|||REQUIRED|||-NONE-|||0
A 7 8|||S:SPELL|||凡|||REQUIRED|||-NONE-|||0

S 大家 希望 裕富 的 生活 。
A 2 3|||S:OTHER|||过 上 富裕|||REQUIRED|||-NONE-|||0

S 我 认为 空气 污染 是 跟 我们 的 生活 密切 的 问题 ， 所以 一定 要 最 优先 解决 ， 优 其 是 像 北京 那样 的 大 城市 。
A 10 10|||M:VERB|||相关|||REQUIRED|||-NONE-|||0
A 20 22|||S:SPELL|||尤其|||REQUIRED|||-NONE-|||0

S 林冲 一路 来到 了 李小二 的 店 里 ， 选 了 一 张 比较 隐避 的 桌子 坐 了 下来 。
A 14 15|||S:SPELL|||隐蔽|||REQUIRED|||-NONE-|||0

S 现代 社会 的 就业 难 太 厉害 。
A 4 6|||W|||太 难|||REQUIRED|||-NONE-|||0
A 6 7|||R:ADJ|||-NONE-|||REQUIRED|||-NONE-|||0

S 因为 读书 准备 就业 的 时间 越 少 了 。
A 2 2|||M:PUNCT|||，|||REQUIRED|||-NONE-|||0
A 6 7|||S:ADV|||更|||REQUIRED|||-NONE-|||0

S 但是 这种 想法 太 近视眼 的 ， 而 有 很 大 的 错误 。
A 4 6|||S:ADJ|||短浅|||REQUIRED|||-NONE-|||0
A 7 8|||S:CONJ|||而且|||REQUIRED|||-NONE-|||0
A 4 5|||S:OTHER|||目光短浅|||REQUIRED|||-NONE-|||1
A 5 6|||S:AUX|||了|||REQUIRED|||-NONE-|||1
A 7 8|||S:CONJ|||而且|||REQUIRED|||-NONE-|||1

S 一般 人 觉得 只有 流利 的 英语 实力 、 好多 征件 、 丰富 的 活动 经历 什么 的 人 才 能 找到 好 工作 。
A 4 5|||S:OTHER|||拥有 强大|||REQUIRED|||-NONE-|||0
A 10 11|||S:SPELL|||证件|||REQUIRED|||-NONE-|||0
A 16 17|||R:PRON|||-NONE-|||REQUIRED|||-NONE-|||0
A 4 4|||M:VERB|||拥有|||REQUIRED|||-NONE-|||1
A 7 8|||R:NOUN|||-NONE-|||REQUIRED|||-NONE-|||1
A 10 11|||S:SPELL|||证件|||REQUIRED|||-NONE-|||1
A 16 17|||R:PRON|||-NONE-|||REQUIRED|||-NONE-|||1

S 如果 读 各种各样 的 书 ， 能 培养 各种各样 的 能力 ， 变 得 更 创新 而 思考 的 深度 更 深 。 那 多么 公司 会 需要 录用 他 。
A 6 6|||M:ADV|||就|||REQUIRED|||-NONE-|||0
A 20 20|||M:VERB|||会|||REQUIRED|||-NONE-|||0
A 22 25|||S:OTHER|||， 那么|||REQUIRED|||-NONE-|||0
A 27 28|||R:VERB|||-NONE-|||REQUIRED|||-NONE-|||0
A 6 7|||R:VERB|||-NONE-|||REQUIRED|||-NONE-|||1
A 16 17|||S:CONJ|||而且|||REQUIRED|||-NONE-|||1
A 22 25|||S:OTHER|||， 那么|||REQUIRED|||-NONE-|||1

S 大学 是 让 学生 们 能 作为 一 名 好 成人 ， 好 的 社会 的 一 部分 。
A 1 1|||M:OTHER|||的 目的|||REQUIRED|||-NONE-|||0
A 6 7|||S:VERB|||成为|||REQUIRED|||-NONE-|||0
A 12 15|||W|||社会 的 好|||REQUIRED|||-NONE-|||0
A 1 1|||M:OTHER|||的 目的|||REQUIRED|||-NONE-|||1
A 6 7|||S:VERB|||成为|||REQUIRED|||-NONE-|||1
A 10 10|||M:AUX|||的|||REQUIRED|||-NONE-|||1
A 12 15|||W|||社会 的 好|||REQUIRED|||-NONE-|||1

S 不管 对 就业 有 没 有 直接 的 利益 ， 学生 们 要 认真 学习 。
A 12 12|||M:ADV|||都|||REQUIRED|||-NONE-|||0

S 当然 现在 的 情况 下 ， 在 大学 学生 们 只 读书 是 难 的 事情 。 准备 找 工作 也 重要 极 了 。
A 1 1|||M:PREP|||在|||REQUIRED|||-NONE-|||0
A 16 17|||S:PUNCT|||，|||REQUIRED|||-NONE-|||0

S 近来 就业 难 是 一个 社会 问题 。 大学 毕业生 也 不 是 外 。
A 7 8|||S:PUNCT|||，|||REQUIRED|||-NONE-|||0
A 13 14|||S:NOUN|||例外|||REQUIRED|||-NONE-|||0
A 7 8|||S:PUNCT|||，|||REQUIRED|||-NONE-|||1
A 12 14|||S:VERB|||例外|||REQUIRED|||-NONE-|||1

S 所以 一些 人 说 ， : 读书 一点 用处 都 没有 。
A 4 5|||R:PUNCT|||-NONE-|||REQUIRED|||-NONE-|||0

S 他们 的 主张 里 的 最 大 的 错误 在 这里 。
A 3 4|||R:NOUN|||-NONE-|||REQUIRED|||-NONE-|||0

S 学习 是 以 得到 智慧 ， 不 是 以 就业 。
A 10 10|||M:OTHER|||为 目的|||REQUIRED|||-NONE-|||0
A 5 5|||M:OTHER|||为 目的|||REQUIRED|||-NONE-|||1
A 10 10|||M:OTHER|||为 目的|||REQUIRED|||-NONE-|||1

S 社会 越来越 成 专业化 、 灵通化 。
A 2 3|||R:VERB|||-NONE-|||REQUIRED|||-NONE-|||0

S 照 此 趋势 类推 ， 将来 更 多 的 人 被 机器 掠夺 了 。
A 3 4|||R:VERB|||-NONE-|||REQUIRED|||-NONE-|||0
A 10 10|||M:VERB|||会|||REQUIRED|||-NONE-|||0
A 13 14|||R:AUX|||-NONE-|||REQUIRED|||-NONE-|||0

S 现代 的 科学技术 发展 已经 能 代 人 在 那种 作业 。
A 3 4|||R:VERB|||-NONE-|||REQUIRED|||-NONE-|||0
A 8 9|||S:VERB|||进行|||REQUIRED|||-NONE-|||0
A 3 4|||R:VERB|||-NONE-|||REQUIRED|||-NONE-|||1
A 10 10|||M:OTHER|||环境 下|||REQUIRED|||-NONE-|||1

S 以 找到 这些 稳定 的 工作 ， 我们 有 读书 的 必要 。
A 0 1|||S:PREP|||为了|||REQUIRED|||-NONE-|||0

S 读 一 本 书 让 你 可能 看 另外 的 角度 ， 而且 获得 宝贝 的 知识 。
A 4 7|||W|||可能 让 你|||REQUIRED|||-NONE-|||0
A 7 8|||S:VERB|||拥有|||REQUIRED|||-NONE-|||0
A 13 13|||M:OTHER|||让 你|||REQUIRED|||-NONE-|||0
A 14 15|||S:ADJ|||宝贵|||REQUIRED|||-NONE-|||0
A 4 4|||M:VERB|||可能|||REQUIRED|||-NONE-|||0
A 6 8|||S:VERB|||拥有|||REQUIRED|||-NONE-|||0
A 13 13|||M:OTHER|||让 你|||REQUIRED|||-NONE-|||0
A 14 15|||S:ADJ|||宝贵|||REQUIRED|||-NONE-|||0
A 6 7|||S:VERB|||能|||REQUIRED|||-NONE-|||1
A 7 8|||S:PREP|||从|||REQUIRED|||-NONE-|||1
A 11 11|||M:OTHER|||看 问题|||REQUIRED|||-NONE-|||1
A 13 13|||M:OTHER|||让 你|||REQUIRED|||-NONE-|||1
A 14 15|||S:ADJ|||宝贵|||REQUIRED|||-NONE-|||1

S 读 很多 书 让 我们 明理 ， 并且 可 会 有 逻辑 思维 。
A 8 11|||S:VERB|||拥有|||REQUIRED|||-NONE-|||0

S 总是 面试 非常 重要 。
A 0 1|||S:CONJ|||总之|||REQUIRED|||-NONE-|||0

S 你 读 很多 书 的话 ， 你 可以 成功 。
A 6 7|||S:ADV|||就|||REQUIRED|||-NONE-|||0

S 可 现在 有 很多 大学 ， 大部分 人 几乎 上 大学 。
A 8 9|||S:ADV|||都|||REQUIRED|||-NONE-|||0
A 8 9|||S:OTHER|||都 能|||REQUIRED|||-NONE-|||1

S 这样 的 事情 让 政府 感到 负担 。
A 6 6|||M:VERB|||有|||REQUIRED|||-NONE-|||0
A 6 7|||S:VERB|||担忧|||REQUIRED|||-NONE-|||1

S 找 工作 的 人 比 工司 更 多 。
A 5 6|||S:SPELL|||公司|||REQUIRED|||-NONE-|||0

S 我 的 家 附近 有 很多 考式 补习班 。
A 6 7|||S:SPELL|||考试|||REQUIRED|||-NONE-|||0

S 如果 结果 好 的话 ， 没关系 。 可 不好 的话 ， 浪费 时间 。
A 6 7|||S:PUNCT|||，|||REQUIRED|||-NONE-|||0
A 11 11|||M:OTHER|||这 会|||REQUIRED|||-NONE-|||0
A 6 7|||S:PUNCT|||，|||REQUIRED|||-NONE-|||1
A 11 11|||M:OTHER|||就 是|||REQUIRED|||-NONE-|||1

S 最近 高中生 比 有名 的 大学 更 喜欢 技术 大学 。
A 0 2|||R:OTHER|||-NONE-|||REQUIRED|||-NONE-|||0
A 3 3|||M:VERB|||起|||REQUIRED|||-NONE-|||0
A 6 6|||M:OTHER|||， 最近 高中生|||REQUIRED|||-NONE-|||0

S 因为 这个 问题 ， 所以 最近 头疼 。
A 5 5|||M:PRON|||我|||REQUIRED|||-NONE-|||0

S 大学 的 功能 不 是 这样 的 。 就是 学 的 。
A 7 9|||S:OTHER|||， 而是 用 来|||REQUIRED|||-NONE-|||0

