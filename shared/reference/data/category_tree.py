"""Minsheng's own three-level category tree (一级 / 二级 / 三级) for petitions and 12345 requests.

Authored for Minsheng. Codes are written out here, never derived from position, so that adding
a node never renumbers another: a node's full code is its parent's code, a dot and its own
two-digit suffix ("C01" → "C01.01" → "C01.01.02"). A retired node keeps its code reserved.

Each node is `_n(suffix, name, slug, *children, **attributes)`. The slug builds the Open311
service code ("urban-construction" + "property-management" → "urban-construction.property-
management"). Attributes that children inherit unless they set their own: `duty` (a key of
`DUTIES`), `handling_path` ("suggestion" | "accusation" | "claim") and `diverted_to`.
`high_risk=True` marks a node and everything below it.

Bump `VERSION` on any change a consumer could notice (a node added, renamed, moved, a flag or
duty changed); stored cases keep the version they were classified under.
"""

from __future__ import annotations

from typing import Any

VERSION = "2026.11.1"

# Functional department types that own a category: short code → the usual Chinese name of the
# department at district level.
DUTIES: dict[str, str] = {
    "housing": "住房和城乡建设局",
    "urban_mgmt": "城市管理和综合执法局",
    "planning": "规划和自然资源局",
    "land_prep": "土地整备局",
    "water": "水务局",
    "emergency": "应急管理局",
    "hrss": "人力资源和社会保障局",
    "medical_security": "医疗保障局",
    "sasac": "国有资产监督管理局",
    "education": "教育局",
    "culture": "文化广电旅游体育局",
    "commerce": "商务局",
    "eco_env": "生态环境局",
    "health": "卫生健康局",
    "transport": "交通运输局",
    "public_security": "公安局",
    "politics_law": "政法委员会",
    "justice": "司法局",
    "discipline": "纪委监委",
    "agriculture": "农业农村局",
    "civil_affairs": "民政局",
    "veterans": "退役军人事务局",
    "market_reg": "市场监督管理局",
    "gov_services": "政务服务数据管理局",
    "gov_office": "政府办公室",
    "ethnic_religious": "民族宗教事务局",
}


def _n(suffix: str, name: str, slug: str, *children: dict[str, Any], **attrs: Any) -> dict[str, Any]:
    return {"suffix": suffix, "name": name, "slug": slug, "children": children, **attrs}


TREE: tuple[dict[str, Any], ...] = (
    _n(
        "C01", "城乡建设", "urban-construction",
        _n(
            "01", "物业管理", "property-management",
            _n("01", "物业服务质量", "service-quality"),
            _n("02", "物业收费与公共收益", "fees-and-common-income"),
            _n("03", "业主大会与业委会", "owners-committee"),
            _n("04", "物业选聘与交接", "appointment-and-handover"),
            _n("05", "小区电梯与共用设施", "shared-facilities"),
            high_risk=True,
        ),
        _n(
            "02", "房地产开发与交易", "real-estate",
            _n("01", "逾期交房", "delayed-delivery"),
            _n("02", "新建住宅质量", "new-housing-quality"),
            _n("03", "商品房办证", "title-certificates"),
            _n("04", "商品房销售行为", "sales-practices"),
            _n("05", "房屋租赁纠纷", "rental-disputes"),
        ),
        _n(
            "03", "住房保障", "housing-security",
            _n("01", "公共租赁住房", "public-rental-housing"),
            _n("02", "保障性住房申请与分配", "affordable-housing-allocation"),
            _n("03", "人才住房与租房补贴", "talent-housing-subsidies"),
        ),
        _n(
            "04", "城市管理执法", "urban-management",
            _n("01", "违法建设", "illegal-construction"),
            _n("02", "占道经营", "street-vending"),
            _n("03", "户外广告与招牌", "outdoor-advertising"),
            _n("04", "市容环境卫生", "city-sanitation"),
            _n("05", "生活垃圾分类", "waste-sorting"),
            duty="urban_mgmt",
        ),
        _n(
            "05", "市政设施", "municipal-facilities",
            _n("01", "道路与井盖", "roads-and-manholes"),
            _n("02", "路灯照明", "street-lighting"),
            _n("03", "园林绿化", "greening"),
            _n("04", "供水与排水", "water-supply-drainage", duty="water"),
            _n("05", "燃气供应", "gas-supply"),
            _n("06", "公园管理", "parks"),
            duty="urban_mgmt",
        ),
        _n(
            "06", "建筑施工", "construction",
            _n("01", "施工安全", "site-safety"),
            _n("02", "工程质量", "construction-quality"),
            _n("03", "夜间施工", "night-construction"),
        ),
        _n(
            "07", "安全生产", "work-safety",
            _n("01", "安全隐患", "hazards"),
            _n("02", "消防安全", "fire-safety"),
            _n("03", "危险化学品", "hazardous-chemicals"),
            duty="emergency",
        ),
        duty="housing",
    ),
    _n(
        "C02", "劳动和社会保障", "labor-social-security",
        _n(
            "01", "工资报酬", "wages",
            _n("01", "拖欠工资", "unpaid-wages", high_risk=True),
            _n("02", "农民工工资", "migrant-worker-wages", high_risk=True),
            _n("03", "加班费与最低工资", "overtime-and-minimum-wage"),
        ),
        _n(
            "02", "劳动关系", "labor-relations",
            _n("01", "劳动合同", "labor-contracts"),
            _n("02", "违法解除与经济补偿", "dismissal-compensation"),
            _n("03", "工伤认定与待遇", "work-injury"),
            _n("04", "劳动仲裁", "labor-arbitration"),
        ),
        _n(
            "03", "社会保险", "social-insurance",
            _n("01", "社保缴纳", "contributions"),
            _n("02", "养老金待遇", "pensions"),
            _n("03", "失业保险", "unemployment-insurance"),
            _n("04", "医疗保险报销", "medical-insurance", duty="medical_security"),
        ),
        _n(
            "04", "就业创业", "employment",
            _n("01", "就业补贴", "employment-subsidies"),
            _n("02", "职业技能培训", "vocational-training"),
            _n("03", "招聘与就业歧视", "recruitment-discrimination"),
        ),
        _n(
            "05", "企业改制", "enterprise-restructuring",
            _n("01", "改制职工安置", "worker-placement"),
            _n("02", "改制资产处置", "asset-disposal"),
            duty="sasac",
            high_risk=True,
        ),
        duty="hrss",
    ),
    _n(
        "C03", "教育文体", "education-culture-sports",
        _n(
            "01", "基础教育", "basic-education",
            _n("01", "入学与学位", "school-places"),
            _n("02", "校外培训", "after-school-training"),
            _n("03", "校园安全", "campus-safety"),
            _n("04", "教育收费", "education-fees"),
            _n("05", "学前教育", "preschool"),
        ),
        _n(
            "02", "教师队伍", "teachers",
            _n("01", "教师待遇", "teacher-pay"),
            _n("02", "师德师风", "teacher-conduct"),
        ),
        _n(
            "03", "文化体育", "culture-sports",
            _n("01", "公共体育设施", "sports-facilities"),
            _n("02", "文化市场管理", "cultural-market"),
            _n("03", "群众文化活动", "community-culture"),
            duty="culture",
        ),
        _n(
            "04", "职业与高等教育", "vocational-higher-education",
            _n("01", "民办学校管理", "private-schools"),
            _n("02", "学历与证书", "credentials"),
        ),
        duty="education",
    ),
    _n(
        "C04", "商贸旅游", "commerce-tourism",
        _n(
            "01", "商业贸易", "trade",
            _n("01", "商场超市经营", "retail"),
            _n("02", "单用途预付卡", "prepaid-cards"),
            _n("03", "农贸市场", "wet-markets"),
        ),
        _n(
            "02", "旅游管理", "tourism",
            _n("01", "景区服务", "scenic-areas"),
            _n("02", "旅行社与导游", "travel-agencies"),
            duty="culture",
        ),
        _n(
            "03", "营商环境", "business-environment",
            _n("01", "惠企政策兑现", "policy-fulfilment"),
            _n("02", "招商引资承诺", "investment-promises"),
        ),
        duty="commerce",
    ),
    _n(
        "C05", "环境保护", "environmental-protection",
        _n(
            "01", "大气污染", "air-pollution",
            _n("01", "工业废气", "industrial-emissions"),
            _n("02", "餐饮油烟", "cooking-fumes"),
            _n("03", "扬尘污染", "dust"),
            high_risk=True,
        ),
        _n(
            "02", "水污染", "water-pollution",
            _n("01", "河道黑臭", "black-odorous-water"),
            _n("02", "企业偷排", "illegal-discharge"),
            high_risk=True,
        ),
        _n(
            "03", "噪声污染", "noise-pollution",
            _n("01", "工业噪声", "industrial-noise"),
            _n("02", "社会生活噪声", "neighbourhood-noise"),
            _n("03", "交通噪声", "traffic-noise"),
            high_risk=True,
        ),
        _n(
            "04", "固体废物", "solid-waste",
            _n("01", "危险废物", "hazardous-waste"),
            _n("02", "建筑垃圾", "construction-waste"),
            high_risk=True,
        ),
        _n(
            "05", "生态与辐射", "ecology-radiation",
            _n("01", "环境影响评价", "impact-assessment"),
            _n("02", "电磁辐射", "radiation"),
            _n("03", "生态破坏", "ecological-damage"),
        ),
        duty="eco_env",
    ),
    _n(
        "C06", "卫生计生", "health-family-planning",
        _n(
            "01", "医疗服务", "medical-services",
            _n("01", "医患纠纷", "medical-disputes"),
            _n("02", "医疗收费", "medical-fees"),
            _n("03", "医德医风", "medical-ethics"),
        ),
        _n(
            "02", "公共卫生", "public-health",
            _n("01", "预防接种", "vaccination"),
            _n("02", "传染病防控", "infectious-disease"),
        ),
        _n(
            "03", "人口与家庭", "population-family",
            _n("01", "计生奖励扶助", "family-planning-benefits"),
            _n("02", "出生医学证明", "birth-certificates"),
        ),
        _n(
            "04", "医疗机构监管", "institution-oversight",
            _n("01", "非法行医", "illegal-practice"),
            _n("02", "医疗美容", "cosmetic-medicine"),
        ),
        duty="health",
    ),
    _n(
        "C07", "交通运输", "transport",
        _n(
            "01", "公共交通", "public-transit",
            _n("01", "公交线路与站点", "bus-routes", handling_path="suggestion"),
            _n("02", "公交服务质量", "bus-service"),
            _n("03", "地铁运营服务", "metro"),
        ),
        _n(
            "02", "出租与网约车", "taxi",
            _n("01", "出租车服务", "taxi-service"),
            _n("02", "网约车管理", "ride-hailing"),
        ),
        _n(
            "03", "道路运输", "road-transport",
            _n("01", "货运物流", "freight"),
            _n("02", "驾驶员培训", "driving-schools"),
        ),
        _n(
            "04", "交通设施", "traffic-facilities",
            _n("01", "信号灯与标线", "signals-and-markings"),
            _n("02", "停车管理", "parking"),
            _n("03", "公路养护", "highway-maintenance"),
        ),
        duty="transport",
    ),
    _n(
        "C08", "公安政法", "public-security-law",
        _n(
            "01", "社会治安", "public-order",
            _n("01", "治安案件", "public-order-cases"),
            _n("02", "电信网络诈骗", "telecom-fraud"),
            _n("03", "黄赌毒", "vice"),
        ),
        _n(
            "02", "户籍证件", "household-registration",
            _n("01", "户口迁移", "residence-transfer"),
            _n("02", "居住证办理", "residence-permits"),
        ),
        _n(
            "03", "交通管理", "traffic-police",
            _n("01", "交通违法处理", "traffic-violations"),
            _n("02", "交通事故处理", "traffic-accidents"),
        ),
        _n(
            "04", "涉法涉诉", "litigation-related",
            _n("01", "不服法院裁判", "court-rulings"),
            _n("02", "判决执行难", "judgment-enforcement"),
            _n("03", "不服检察机关处理", "procuratorate-decisions"),
            _n("04", "不服公安机关处理", "police-decisions"),
            duty="politics_law",
            diverted_to="政法",
            high_risk=True,
        ),
        _n(
            "05", "法律服务", "legal-services",
            _n("01", "法律援助", "legal-aid"),
            _n("02", "人民调解", "peoples-mediation"),
            duty="justice",
        ),
        duty="public_security",
    ),
    _n(
        "C09", "纪检监察", "discipline-inspection",
        _n(
            "01", "检举控告", "accusations",
            _n("01", "违反廉洁纪律", "integrity"),
            _n("02", "违反中央八项规定精神", "eight-point-rules"),
            _n("03", "群众身边腐败", "grassroots-corruption"),
            _n("04", "滥用职权", "abuse-of-power"),
        ),
        _n(
            "02", "干部作风", "cadre-conduct",
            _n("01", "形式主义官僚主义", "formalism"),
            _n("02", "不作为乱作为", "inaction"),
        ),
        _n(
            "03", "村（社区）干部问题", "village-cadres",
            _n("01", "集体资金资产管理", "collective-funds"),
            _n("02", "优亲厚友", "favouritism"),
        ),
        duty="discipline",
        handling_path="accusation",
    ),
    _n(
        "C10", "农村农业", "agriculture-rural",
        _n(
            "01", "土地承包经营", "land-contracting",
            _n("01", "承包地纠纷", "contract-disputes"),
            _n("02", "土地流转", "land-transfer"),
        ),
        _n(
            "02", "惠农补贴", "farm-subsidies",
            _n("01", "种粮补贴", "grain-subsidies"),
            _n("02", "农机购置补贴", "machinery-subsidies"),
        ),
        _n(
            "03", "村务管理", "village-affairs",
            _n("01", "村务公开", "transparency"),
            _n("02", "集体经济分红", "collective-dividends"),
        ),
        _n(
            "04", "农资与动物防疫", "agri-inputs",
            _n("01", "假劣农资", "fake-inputs"),
            _n("02", "动物防疫", "animal-epidemic"),
        ),
        _n(
            "05", "水利", "water-conservancy",
            _n("01", "水库山塘", "reservoirs"),
            _n("02", "防洪排涝", "flood-control"),
            duty="water",
        ),
        duty="agriculture",
    ),
    _n(
        "C11", "民政", "civil-affairs",
        _n(
            "01", "社会救助", "social-assistance",
            _n("01", "最低生活保障", "minimum-living-allowance"),
            _n("02", "临时救助", "temporary-assistance"),
        ),
        _n(
            "02", "养老服务", "elderly-care",
            _n("01", "养老机构", "care-homes"),
            _n("02", "高龄津贴", "old-age-allowance"),
        ),
        _n(
            "03", "婚姻殡葬", "marriage-funeral",
            _n("01", "婚姻登记", "marriage-registration"),
            _n("02", "殡葬服务", "funeral-services"),
        ),
        _n(
            "04", "残疾人与儿童福利", "disability-child-welfare",
            _n("01", "残疾人补贴", "disability-allowance"),
            _n("02", "困境儿童保障", "children-in-difficulty"),
        ),
        _n(
            "05", "退役军人", "veterans",
            _n("01", "退役安置", "resettlement"),
            _n("02", "优抚待遇", "preferential-treatment"),
            duty="veterans",
            high_risk=True,
        ),
        duty="civil_affairs",
    ),
    _n(
        "C12", "市场监管", "market-regulation",
        _n(
            "01", "食品安全", "food-safety",
            _n("01", "餐饮服务食品安全", "food-service"),
            _n("02", "食品生产销售", "food-production"),
        ),
        _n(
            "02", "药品与医疗器械", "drugs-devices",
            _n("01", "药品质量", "drug-quality"),
            _n("02", "保健品虚假宣传", "health-products"),
        ),
        _n(
            "03", "消费维权", "consumer-rights",
            _n("01", "价格违法", "pricing"),
            _n("02", "虚假广告", "false-advertising"),
            _n("03", "网络购物纠纷", "online-shopping"),
        ),
        _n(
            "04", "特种设备与产品质量", "special-equipment",
            _n("01", "电梯安全", "elevator-safety"),
            _n("02", "产品质量", "product-quality"),
        ),
        duty="market_reg",
    ),
    _n(
        "C13", "国土资源", "land-resources",
        _n(
            "01", "征地拆迁", "land-acquisition-demolition",
            _n("01", "征地补偿", "land-compensation"),
            _n("02", "房屋征收与补偿", "house-expropriation", duty="housing"),
            _n("03", "拆迁安置房", "resettlement-housing"),
            _n("04", "城市更新与旧改", "urban-renewal"),
            duty="land_prep",
            high_risk=True,
        ),
        _n(
            "02", "土地管理", "land-management",
            _n("01", "违法用地", "illegal-land-use"),
            _n("02", "土地确权", "land-titles"),
        ),
        _n(
            "03", "不动产登记", "real-estate-registration",
            _n("01", "登记办理", "registration"),
            _n("02", "历史遗留产权问题", "legacy-titles"),
        ),
        _n(
            "04", "规划管理", "planning",
            _n("01", "规划调整", "plan-changes"),
            _n("02", "采光与建筑间距", "daylight-and-spacing"),
        ),
        _n(
            "05", "地质与矿产", "geology-mining",
            _n("01", "地质灾害", "geohazards"),
            _n("02", "非法采砂采矿", "illegal-mining"),
        ),
        duty="planning",
    ),
    _n(
        "C14", "党政综合", "party-government",
        _n(
            "01", "政务服务", "government-services",
            _n("01", "办事效率", "service-efficiency"),
            _n("02", "政府信息公开", "information-disclosure"),
            _n("03", "热线与网站服务", "hotline-and-portal"),
            duty="gov_services",
        ),
        _n(
            "02", "党建与群团", "party-building",
            _n("01", "党员组织关系", "party-membership"),
            _n("02", "工会妇联共青团", "mass-organisations"),
        ),
        _n(
            "03", "建言献策", "suggestions",
            _n("01", "城市发展建议", "city-development"),
            _n("02", "政策咨询", "policy-inquiries"),
            handling_path="suggestion",
        ),
        _n(
            "04", "民族宗教", "ethnic-religious",
            _n("01", "宗教活动场所", "religious-venues"),
            _n("02", "少数民族权益", "minority-rights"),
            duty="ethnic_religious",
        ),
        duty="gov_office",
    ),
)

# Partners' labels that are not one of our node names, mapped to our code. Keep it small and
# obvious: anything ambiguous is better left unmatched for a person to classify.
SYNONYMS: dict[str, str] = {
    "城建": "C01",
    "住建": "C01",
    "住房": "C01.03",
    "房产": "C01.02",
    "房地产": "C01.02",
    "物业": "C01.01",
    "城管": "C01.04",
    "城市管理": "C01.04",
    "违建": "C01.04.01",
    "市政": "C01.05",
    "劳动保障": "C02",
    "人社": "C02",
    "社保": "C02.03",
    "欠薪": "C02.01.01",
    "拖欠工资": "C02.01.01",
    "教育": "C03",
    "文体": "C03.03",
    "商贸": "C04",
    "旅游": "C04.02",
    "环保": "C05",
    "环境": "C05",
    "生态环境": "C05",
    "卫生": "C06",
    "卫健": "C06",
    "卫生健康": "C06",
    "医疗卫生": "C06",
    "交通": "C07",
    "公安": "C08",
    "政法": "C08",
    "纪检": "C09",
    "纪委": "C09",
    "监察": "C09",
    "农业": "C10",
    "农村": "C10",
    "三农": "C10",
    "民政事务": "C11",
    "市场监督": "C12",
    "市场监督管理": "C12",
    "食药": "C12.01",
    "国土": "C13",
    "国土规划": "C13",
    "自然资源": "C13",
    "拆迁": "C13.01",
    "征收": "C13.01",
    "党务政务": "C14",
    "政务": "C14.01",
    "综合": "C14",
}
