S 冬 阴 功 是 泰 国 最 著 名 的 菜 之 一 ， 它 虽 然 不 是 很 豪 华 ， 但 它 的 味 确 实 让 人 上 瘾 ， 做 法 也 不 难 、 不 复 杂 。
A 14 17|||W|||虽 然 它|||REQUIRED|||-NONE-|||0

S 首 先 ， 我 们 得 准 备 : 大 虾 六 到 九 只 、 盐 一 茶 匙 、 已 搾 好 的 柠 檬 汁 三 汤 匙 、 泰 国 柠 檬 叶 三 叶 、 柠 檬 香 草 一 根 、 鱼 酱 两 汤 匙 、 辣 椒 6 粒 ， 纯 净 水 4 量 杯 、 香 菜 半 量 杯 和 草 菇 1 0 个 。
A 22 23|||S|||榨|||REQUIRED|||-NONE-|||0
A 55 56|||S|||六|||REQUIRED|||-NONE-|||0
A 61 62|||S|||四|||REQUIRED|||-NONE-|||0
A 73 75|||S|||十|||REQUIRED|||-NONE-|||0

S 这 样 ， 你 就 会 尝 到 泰 国 人 死 爱 的 味 道 。
A 11 13|||W|||爱 死|||REQUIRED|||-NONE-|||0

S 另 外 ， 冬 阴 功 对 外 国 人 的 喜 爱 不 断 地 增 加 。
A 3 10|||W|||外 国 人 对 冬 阴 功|||REQUIRED|||-NONE-|||0

S 这 部 电 影 不 仅 是 国 内 ， 在 国 外 也 很 有 名 。
A 7 7|||M|||在|||REQUIRED|||-NONE-|||0
A 6 7|||S|||在|||REQUIRED|||-NONE-|||1

S 不 管 是 真 正 的 冬 阴 功 还 是 电 影 的 “ 冬 阴 功 ” ， 都 在 人 们 的 心 里 刻 骨 铭 心 。
A 20 22|||R|||-NONE-|||REQUIRED|||-NONE-|||0
A 24 27|||S|||都|||REQUIRED|||-NONE-|||0
A 13 13|||M|||中|||REQUIRED|||-NONE-|||1
A 21 22|||S|||使|||REQUIRED|||-NONE-|||1
A 24 27|||R|||-NONE-|||REQUIRED|||-NONE-|||1

S 随 着 中 国 经 济 突 飞 猛 近 ， 建 造 工 业 与 日 俱 增 。
A 9 10|||S|||进|||REQUIRED|||-NONE-|||0

S 虽 然 工 业 的 发 展 和 城 市 规 模 的 扩 大 对 经 济 发 展 有 积 极 作 用 ， 但 是 同 时 也 对 环 境 问 题 日 益 严 重 造 成 了 空 气 污 染 问 题 。
A 34 36|||S|||造 成 了|||REQUIRED|||-NONE-|||0
A 40 43|||S|||的|||REQUIRED|||-NONE-|||0
A 34 36|||S|||造 成 了|||REQUIRED|||-NONE-|||1
A 40 45|||S|||的|||REQUIRED|||-NONE-|||1

S 那 些 空 气 污 染 也 没 有 助 于 人 生 的 身 体 建 康 。
A 7 9|||S|||无|||REQUIRED|||-NONE-|||0
A 12 13|||R|||-NONE-|||REQUIRED|||-NONE-|||0
A 16 17|||S|||健|||REQUIRED|||-NONE-|||0

S 由 此 可 见 ， 首 先 我 们 要 了 解 一 些 关 于 空 气 污 染 对 我 们 人 生 有 什 么 危 害 的 话 题 知 道 了 这 些 常 识 以 后 对 我 们 人 类 会 有 积 极 作 用 。 以 及 要 学 会 怎 样 应 对 和 治 理 空 气 污 染 的 问 题 。
A 24 25|||S|||体|||REQUIRED|||-NONE-|||0
A 33 33|||M|||— —|||REQUIRED|||-NONE-|||0
A 35 36|||R|||-NONE-|||REQUIRED|||-NONE-|||0
A 40 42|||R|||-NONE-|||REQUIRED|||-NONE-|||0
A 53 54|||S|||，|||REQUIRED|||-NONE-|||0
A 24 25|||S|||体|||REQUIRED|||-NONE-|||1
A 33 33|||M|||— —|||REQUIRED|||-NONE-|||1
A 35 36|||R|||-NONE-|||REQUIRED|||-NONE-|||1
A 40 42|||R|||-NONE-|||REQUIRED|||-NONE-|||1
A 53 56|||S|||， 其 次|||REQUIRED|||-NONE-|||1

S 任 何 事 情 都 是 各 有 利 弊 ， 众 所 周 知 越 建 立 工 业 越 对 经 济 方 面 有 所 发 展 。
A 16 18|||S|||发 展|||REQUIRED|||-NONE-|||0
A 20 22|||S|||，|||REQUIRED|||-NONE-|||0
A 26 26|||M|||就 越|||REQUIRED|||-NONE-|||0
A 10 10|||M|||的|||REQUIRED|||-NONE-|||1
A 16 18|||S|||发 展|||REQUIRED|||-NONE-|||1
A 20 22|||S|||，|||REQUIRED|||-NONE-|||1
A 26 26|||M|||就 越|||REQUIRED|||-NONE-|||1

S 对 我 看 来 ， 曼 古 空 气 污 染 的 问 题 与 日 俱 增 。
A 0 1|||S|||在|||REQUIRED|||-NONE-|||0

S 每 天 会 有 不 少 的 毒 气 体 泄 漏 从 工 厂 里 出 来 。
A 7 7|||M|||有|||REQUIRED|||-NONE-|||0
A 10 16|||W|||从 工 厂 里 泄 漏|||REQUIRED|||-NONE-|||0
A 7 7|||M|||有|||REQUIRED|||-NONE-|||1
A 10 16|||W|||从 工 厂 里 泄 露|||REQUIRED|||-NONE-|||1

S 在 工 厂 里 的 工 作 人 员 为 了 工 作 ， 而 每 天 吸 了 不 少 的 毒 气 体 ， 经 过 了 一 年 多 的 时 间 ， 连 工 作 人 员 也 得 了 严 重 的 病 。 更 不 用 说 住 在 这 家 工 厂 近 的 家 庭 。
A 14 15|||R|||-NONE-|||REQUIRED|||-NONE-|||0
A 22 22|||M|||有|||REQUIRED|||-NONE-|||0
A 48 49|||S|||，|||REQUIRED|||-NONE-|||0
A 54 55|||S|||得 离|||REQUIRED|||-NONE-|||0
A 14 15|||R|||-NONE-|||REQUIRED|||-NONE-|||1
A 22 22|||M|||有|||REQUIRED|||-NONE-|||1
A 48 49|||S|||，|||REQUIRED|||-NONE-|||1
A 59 59|||M|||附|||REQUIRED|||-NONE-|||1

S 沙 尘 暴 也 是 一 类 空 气 污 染 之 一 。
A 11 13|||R|||-NONE-|||REQUIRED|||-NONE-|||0
A 5 7|||R|||-NONE-|||REQUIRED|||-NONE-|||1

S 不 官 是 从 口 、 眼 、 鼻 子 进 去 这 样 会 伤 害 身 体 的 建 康 。
A 1 2|||S|||管|||REQUIRED|||-NONE-|||0
A 7 8|||S|||还 是|||REQUIRED|||-NONE-|||0
A 12 14|||S|||， 都|||REQUIRED|||-NONE-|||0
A 20 21|||S|||健|||REQUIRED|||-NONE-|||0

S 这 样 做 会 避 免 受 到 沙 尘 暴 。
A 11 11|||M|||的 危 害|||REQUIRED|||-NONE-|||0

S 最 后 ， 要 关 主 一 些 关 于 天 气 预 报 的 新 闻 。
A 5 6|||S|||注|||REQUIRED|||-NONE-|||0

S 中 国 ， 悠 久 的 历 史 ， 灿 烂 的 文 化 ， 真 是 在 历 史 上 最 难 忘 的 国 家 。
A 3 3|||M|||拥 有|||REQUIRED|||-NONE-|||0
A 21 21|||M|||让 人|||REQUIRED|||-NONE-|||0

S 对 一 个 生 名 来 说 空 气 污 染 是 很 危 害 的 问 题 ， 对 身 体 不 好 。
A 4 5|||S|||命|||REQUIRED|||-NONE-|||0
A 12 12|||M|||有|||REQUIRED|||-NONE-|||0
A 13 13|||M|||大|||REQUIRED|||-NONE-|||0
A 4 5|||S|||命|||REQUIRED|||-NONE-|||1
A 13 13|||M|||有|||REQUIRED|||-NONE-|||1
A 16 18|||R|||-NONE-|||REQUIRED|||-NONE-|||1

S 抽 烟 对 身 体 非 常 不 好 ， 对 身 体 非 常 危 害 。
A 13 17|||W|||危 害 非 常|||REQUIRED|||-NONE-|||0
A 17 17|||M|||大|||REQUIRED|||-NONE-|||0

S 在 中 国 ， 不 官 是 谁 ， 都 抽 烟 。
A 5 6|||S|||管|||REQUIRED|||-NONE-|||0

S 但 是 医 生 说 ， 他 的 身 体 是 跟 抽 烟 的 人 完 全 一 样 ， 好 像 抽 烟 抽 得 六 十 年 一 样 。
A 10 11|||R|||-NONE-|||REQUIRED|||-NONE-|||0
A 26 27|||S|||了|||REQUIRED|||-NONE-|||0

S 在 证 治 方 面 空 气 污 染 也 很 不 好 。
A 1 2|||S|||政|||REQUIRED|||-NONE-|||0

S 现 在 人 们 会 认 为 中 国 ， 持 别 是 北 京 ， 没 有 “ 自 然 ” 的 感 觉 。
A 10 11|||S|||特|||REQUIRED|||-NONE-|||0

S 例 如 ， 天 气 非 常 好 的 时 候 比 天 气 非 常 不 好 的 时 候 完 全 不 一 样 。 天 气 好 时 大 部 分 的 人 会 高 兴 。
A 11 12|||S|||和|||REQUIRED|||-NONE-|||0
A 26 27|||S|||:|||REQUIRED|||-NONE-|||0

S 工 业 发 展 是 好 东 西 ， 但 是 好 的 东 西 也 有 不 好 的 东 西 。
A 20 22|||S|||方 面|||REQUIRED|||-NONE-|||0
A 20 22|||S|||一 面|||REQUIRED|||-NONE-|||1

S 工 业 发 展 把 中 国 当 个 很 强 的 国 家 。
A 7 8|||S|||变 成 一|||REQUIRED|||-NONE-|||0

S 北 京 的 空 气 太 污 染 了 ， 泛 在 北 京 的 人 一 定 要 注 意 ， 别 抽 烟 。
A 5 8|||W|||污 染 太|||REQUIRED|||-NONE-|||0
A 8 8|||M|||严 重|||REQUIRED|||-NONE-|||0
A 10 11|||S|||凡|||REQUIRED|||-NONE-|||0
A 5 6|||R|||-NONE-|||REQUIRED|||-NONE-|||0
A 8 8|||M|||太 严 重|||REQUIRED|||-NONE-|||0
A 10 11|||S|||凡|||REQUIRED|||-NONE-|||0

S 大 家 希 望 裕 富 的 生 活 。
A 4 4|||M|||过 上|||REQUIRED|||-NONE-|||0
A 4 6|||W|||富 裕|||REQUIRED|||-NONE-|||0

S 我 认 为 空 气 污 染 是 跟 我 们 的 生 活 密 切 的 问 题 ， 所 以 一 定 要 最 优 先 解 决 ， 优 其 是 像 北 京 那 样 的 大 城 市 。
A 16 16|||M|||相 关|||REQUIRED|||-NONE-|||0
A 31 32|||S|||尤|||REQUIRED|||-NONE-|||0

S 林 冲 一 路 来 到 了 李 小 二 的 店 里 ， 选 了 一 张 比 较 隐 避 的 桌 子 坐 了 下 来 。
A 21 22|||S|||蔽|||REQUIRED|||-NONE-|||0

S 现 代 社 会 的 就 业 难 太 厉 害 。
A 7 9|||W|||太 难|||REQUIRED|||-NONE-|||0
A 9 11|||R|||-NONE-|||REQUIRED|||-NONE-|||0

S 因 为 读 书 准 备 就 业 的 时 间 越 少 了 。
A 4 4|||M|||，|||REQUIRED|||-NONE-|||0
A 11 12|||S|||更|||REQUIRED|||-NONE-|||0

S 但 是 这 种 想 法 太 近 视 眼 的 ， 而 有 很 大 的 错 误 。
A 7 11|||S|||短 浅|||REQUIRED|||-NONE-|||0
A 13 13|||M|||且|||REQUIRED|||-NONE-|||0
A 7 11|||S|||目 光 短 浅 了|||REQUIRED|||-NONE-|||1
A 13 13|||M|||且|||REQUIRED|||-NONE-|||1

S 一 般 人 觉 得 只 有 流 利 的 英 语 实 力 、 好 多 征 件 、 丰 富 的 活 动 经 历 什 么 的 人 才 能 找 到 好 工 作 。
A 7 9|||S|||拥 有 强 大|||REQUIRED|||-NONE-|||0
A 17 18|||S|||证|||REQUIRED|||-NONE-|||0
A 27 29|||R|||-NONE-|||REQUIRED|||-NONE-|||0
A 6 6|||M|||有 拥|||REQUIRED|||-NONE-|||1
A 12 14|||R|||-NONE-|||REQUIRED|||-NONE-|||1
A 17 18|||S|||证|||REQUIRED|||-NONE-|||1
A 27 29|||R|||-NONE-|||REQUIRED|||-NONE-|||1

S 如 果 读 各 种 各 样 的 书 ， 能 培 养 各 种 各 样 的 能 力 ， 变 得 更 创 新 而 思 考 的 深 度 更 深 。 那 多 么 公 司 会 需 要 录 用 他 。
A 10 10|||M|||就|||REQUIRED|||-NONE-|||0
A 32 32|||M|||会|||REQUIRED|||-NONE-|||0
A 34 35|||S|||，|||REQUIRED|||-NONE-|||0
A 36 37|||R|||-NONE-|||REQUIRED|||-NONE-|||0
A 41 43|||R|||-NONE-|||REQUIRED|||-NONE-|||0
A 10 11|||R|||-NONE-|||REQUIRED|||-NONE-|||1
A 27 27|||M|||且|||REQUIRED|||-NONE-|||1
A 34 35|||S|||，|||REQUIRED|||-NONE-|||1
A 36 37|||R|||-NONE-|||REQUIRED|||-NONE-|||1

S 大 学 是 让 学 生 们 能 作 为 一 名 好 成 人 ， 好 的 社 会 的 一 部 分 。
A 2 2|||M|||的 目 的|||REQUIRED|||-NONE-|||0
A 8 9|||S|||成|||REQUIRED|||-NONE-|||0
A 16 20|||W|||社 会 的 好|||REQUIRED|||-NONE-|||0
A 2 2|||M|||的 目 的|||REQUIRED|||-NONE-|||1
A 8 9|||S|||成|||REQUIRED|||-NONE-|||1
A 13 13|||M|||的|||REQUIRED|||-NONE-|||1
A 16 20|||W|||社 会 的 好|||REQUIRED|||-NONE-|||1

S 不 管 对 就 业 有 没 有 直 接 的 利 益 ， 学 生 们 要 认 真 学 习 。
A 17 17|||M|||都|||REQUIRED|||-NONE-|||0

S 当 然 现 在 的 情 况 下 ， 在 大 学 学 生 们 只 读 书 是 难 的 事 情 。 准 备 找 工 作 也 重 要 极 了 。
A 2 2|||M|||在|||REQUIRED|||-NONE-|||0
A 23 24|||S|||，|||REQUIRED|||-NONE-|||0

S 近 来 就 业 难 是 一 个 社 会 问 题 。 大 学 毕 业 生 也 不 是 外 。
A 12 13|||S|||，|||REQUIRED|||-NONE-|||0
A 21 21|||M|||例|||REQUIRED|||-NONE-|||0
A 12 13|||S|||，|||REQUIRED|||-NONE-|||1
A 20 21|||S|||例|||REQUIRED|||-NONE-|||1

S 所 以 一 些 人 说 ， : 读 书 一 点 用 处 都 没 有 。
A 6 7|||R|||-NONE-|||REQUIRED|||-NONE-|||0

S 他 们 的 主 张 里 的 最 大 的 错 误 在 这 里 。
A 5 6|||R|||-NONE-|||REQUIRED|||-NONE-|||0

S 学 习 是 以 得 到 智 慧 ， 不 是 以 就 业 。
A 14 14|||M|||为 目 的|||REQUIRED|||-NONE-|||0
A 8 8|||M|||为 目 的|||REQUIRED|||-NONE-|||1
A 14 14|||M|||为 目 的|||REQUIRED|||-NONE-|||1

S 社 会 越 来 越 成 专 业 化 、 灵 通 化 。
A 5 6|||R|||-NONE-|||REQUIRED|||-NONE-|||0

S 照 此 趋 势 类 推 ， 将 来 更 多 的 人 被 机 器 掠 夺 了 。
A 4 6|||R|||-NONE-|||REQUIRED|||-NONE-|||0
A 13 13|||M|||会|||REQUIRED|||-NONE-|||0
A 18 19|||R|||-NONE-|||REQUIRED|||-NONE-|||0

S 现 代 的 科 学 技 术 发 展 已 经 能 代 人 在 那 种 作 业 。
A 7 9|||R|||-NONE-|||REQUIRED|||-NONE-|||0
A 14 15|||S|||进 行|||REQUIRED|||-NONE-|||0
A 7 9|||R|||-NONE-|||REQUIRED|||-NONE-|||1
A 17 17|||M|||环 境 下|||REQUIRED|||-NONE-|||1

S 以 找 到 这 些 稳 定 的 工 作 ， 我 们 有 读 书 的 必 要 。
A 0 1|||S|||为 了|||REQUIRED|||-NONE-|||0

S 读 一 本 书 让 你 可 能 看 另 外 的 角 度 ， 而 且 获 得 宝 贝 的 知 识 。
A 4 8|||W|||可 能 让 你|||REQUIRED|||-NONE-|||0
A 8 9|||S|||拥 有|||REQUIRED|||-NONE-|||0
A 17 17|||M|||让 你|||REQUIRED|||-NONE-|||0
A 20 21|||S|||贵|||REQUIRED|||-NONE-|||0
A 6 7|||R|||-NONE-|||REQUIRED|||-NONE-|||1
A 8 9|||S|||从|||REQUIRED|||-NONE-|||1
A 14 14|||M|||看 问 题|||REQUIRED|||-NONE-|||1
A 17 17|||M|||让 你|||REQUIRED|||-NONE-|||1
A 20 21|||S|||贵|||REQUIRED|||-NONE-|||1

S 读 很 多 书 让 我 们 明 理 ， 并 且 可 会 有 逻 辑 思 维 。
A 12 14|||S|||拥|||REQUIRED|||-NONE-|||0

S 总 是 面 试 非 常 重 要 。
A 1 2|||S|||之|||REQUIRED|||-NONE-|||0

S 你 读 很 多 书 的 话 ， 你 可 以 成 功 。
A 8 9|||S|||就|||REQUIRED|||-NONE-|||0

S 可 现 在 有 很 多 大 学 ， 大 部 分 人 几 乎 上 大 学 。
A 13 15|||S|||都|||REQUIRED|||-NONE-|||0
A 13 15|||S|||都 能|||REQUIRED|||-NONE-|||1

S 这 样 的 事 情 让 政 府 感 到 负 担 。
A 10 10|||M|||有|||REQUIRED|||-NONE-|||0
A 10 11|||R|||-NONE-|||REQUIRED|||-NONE-|||1
A 12 12|||M|||忧|||REQUIRED|||-NONE-|||1

S 找 工 作 的 人 比 工 司 更 多 。
A 6 7|||S|||公|||REQUIRED|||-NONE-|||0

S 我 的 家 附 近 有 很 多 考 式 补 习 班 。
A 9 10|||S|||试|||REQUIRED|||-NONE-|||0

S 如 果 结 果 好 的 话 ， 没 关 系 。 可 不 好 的 话 ， 浪 费 时 间 。
A 11 12|||S|||，|||REQUIRED|||-NONE-|||0
A 18 18|||M|||这 会|||REQUIRED|||-NONE-|||0
A 11 12|||S|||，|||REQUIRED|||-NONE-|||1
A 18 18|||M|||就 是|||REQUIRED|||-NONE-|||1

S 最 近 高 中 生 比 有 名 的 大 学 更 喜 欢 技 术 大 学 。
A 0 5|||R|||-NONE-|||REQUIRED|||-NONE-|||0
A 6 6|||M|||起|||REQUIRED|||-NONE-|||0
A 11 11|||M|||， 最 近 高 中 生|||REQUIRED|||-NONE-|||0

S 因 为 这 个 问 题 ， 所 以 最 近 头 疼 。
A 9 9|||M|||我|||REQUIRED|||-NONE-|||0

S 大 学 的 功 能 不 是 这 样 的 。 就 是 学 的 。
A 10 12|||S|||， 而|||REQUIRED|||-NONE-|||0
A 13 13|||M|||用 来|||REQUIRED|||-NONE-|||0

