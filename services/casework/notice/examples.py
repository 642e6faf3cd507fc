"""One example context per notice kind (the caller's fields, invented people and places):
the API schemas show them, and the tests render every kind from them."""

from __future__ import annotations

from typing import Any

COMMON: dict[str, Any] = {
    "issuer": "深圳市宝安区信访局",
    "petitioner": "李某某",
    "matter": "反映某小区物业公司擅自提高物业服务费",
}

EXAMPLES: dict[str, dict[str, Any]] = {
    "accept": {
        **COMMON,
        "handling_unit": "宝安区住房和建设局",
        "accepted_on": "2026-03-05",
        "due_on": "2026-05-04",
        "handling_path": "claim",
        "contact": "0755-00000000",
    },
    "not_accept": {
        **COMMON,
        "reason_code": "outside_competence",
        "reason": "物业服务收费标准的核定属于市发展和改革部门的职责。",
        "go_to": "请向深圳市发展和改革委员会价格管理部门提出。",
    },
    "not_reaccept": {
        **COMMON,
        "reexam_body": "深圳市信访局",
        "reexam_number": "深信复核〔2025〕第000017号",
        "reexam_on": "2025-11-20",
    },
    "transfer": {**COMMON, "to_unit": "宝安区新安街道办事处", "sent_on": "2026-03-03"},
    "assign": {**COMMON, "to_unit": "宝安区住房和建设局", "sent_on": "2026-03-03"},
    "extension": {
        **COMMON,
        "extra_days": 30,
        "original_due_on": "2026-05-04",
        "new_due_on": "2026-06-03",
        "reason": "需要委托第三方机构对物业服务成本进行审计。",
    },
    "reply": {
        **COMMON,
        "claims": [
            {
                "claim": "要求物业公司恢复原收费标准",
                "facts": "物业公司未经业主大会表决即上调收费标准。",
                "basis": "《物业管理条例》第七条、第十一条",
                "decision": "support",
                "opinion": "已责令物业公司于30日内恢复原收费标准并退还多收费用。",
            },
            {
                "claim": "要求赔偿精神损失",
                "facts": "未发现物业公司存在侵害人身权益的行为。",
                "basis": "《中华人民共和国民法典》第一千一百八十三条",
                "decision": "reject",
                "opinion": "该请求缺乏事实根据，不予支持。",
            },
        ],
        "review_body": "深圳市宝安区人民政府",
    },
    "review": {
        **COMMON,
        "requested_on": "2026-06-10",
        "original_body": "宝安区住房和建设局",
        "original_number": "信处〔2026〕第000042号",
        "findings": "原处理意见认定事实清楚，适用依据正确。",
        "decision": "uphold",
        "opinion": "维持宝安区住房和建设局作出的处理意见。",
        "reexam_body": "深圳市人民政府",
    },
    "reexam": {
        **COMMON,
        "requested_on": "2026-08-01",
        "review_body": "深圳市宝安区人民政府",
        "review_number": "信复查〔2026〕第000008号",
        "findings": "复查意见认定事实清楚，程序合法。",
        "decision": "uphold",
        "opinion": "维持复查意见。",
        "hearing_on": "2026-08-20",
    },
    "mediation": {
        **COMMON,
        "parties": [
            {"role": "甲方（信访人）", "name": "李某某"},
            {"role": "乙方", "name": "某物业服务有限公司"},
        ],
        "mediator": "宝安区新安街道人民调解委员会",
        "dispute": "物业服务费上调及多收费用的退还。",
        "terms": [
            "乙方自2026年4月起按原标准收取物业服务费。",
            "乙方退还甲方多收的物业服务费人民币壹仟贰佰元整。",
        ],
        "schedule": [
            {"obligor": "乙方", "action": "退还多收费用1200元", "due_on": "2026-04-30"},
        ],
    },
}

SYSTEM_EXAMPLE: dict[str, Any] = {
    "number": "信受〔2026〕第000001号",
    "tracking_no": "MS2026030100000001",
    "received_on": "2026-03-01",
    "issued_on": "2026-03-05",
}
