//! Forced-labour region flag: addresses or places of production in the Xinjiang Uyghur
//! Autonomous Region raise the UFLPA rebuttable presumption (goods mined, produced or
//! manufactured wholly or in part in Xinjiang are presumed made with forced labour).
//!
//! The gazetteer holds the region's names, its prefecture-level divisions, the XPCC (Bingtuan)
//! cities and the counties most named in cotton, tomato, polysilicon and aluminium supply chains,
//! each with its common romanisations (pinyin, Uyghur Latin, older Wade-Giles/postal forms) and
//! its Chinese name. Text is matched on whole normalised words, so "Kashgar Road, Shanghai"
//! still flags (the officer decides) but "Kashihara" does not. Names that are also places
//! elsewhere (Aksu in Turkey, Altay in Russia, Aral in Kazakhstan, Ili, Hami, Bole, Manas) flag
//! only when the country is China or the text itself says China/Xinjiang.

use crate::normalize::to_ascii_lower;
use serde::Serialize;

/// (canonical name, kind, ambiguous outside China, spellings).
type Place = (&'static str, &'static str, bool, &'static [&'static str]);

const GAZETTEER: &[Place] = &[
    (
        "Xinjiang Uyghur Autonomous Region",
        "region",
        false,
        &[
            "xinjiang",
            "sinkiang",
            "xuar",
            "xinjiang uyghur autonomous region",
            "xinjiang uygur autonomous region",
            "east turkestan",
            "east turkistan",
            "uyghuristan",
            "新疆",
            "新疆维吾尔自治区",
        ],
    ),
    (
        "Xinjiang Production and Construction Corps",
        "XPCC",
        false,
        &[
            "xpcc",
            "bingtuan",
            "xinjiang production and construction corps",
            "新疆生产建设兵团",
            "兵团",
        ],
    ),
    (
        "Urumqi",
        "prefecture-level city",
        false,
        &[
            "urumqi",
            "urumchi",
            "wulumuqi",
            "urümqi",
            "ürümqi",
            "乌鲁木齐",
        ],
    ),
    (
        "Karamay",
        "prefecture-level city",
        false,
        &["karamay", "kelamayi", "qaramay", "克拉玛依"],
    ),
    (
        "Turpan",
        "prefecture-level city",
        false,
        &["turpan", "turfan", "tulufan", "吐鲁番"],
    ),
    (
        "Hami",
        "prefecture-level city",
        true,
        &["hami", "kumul", "qumul", "哈密"],
    ),
    (
        "Kashgar",
        "prefecture",
        false,
        &["kashgar", "kashghar", "qeshqer", "kaxgar", "喀什"],
    ),
    ("Kashi", "prefecture (pinyin)", true, &["kashi"]),
    (
        "Hotan",
        "prefecture",
        false,
        &["hotan", "khotan", "hetian", "xoten", "和田"],
    ),
    (
        "Aksu",
        "prefecture",
        true,
        &["aksu", "akesu", "aqsu", "阿克苏"],
    ),
    (
        "Kizilsu Kyrgyz Autonomous Prefecture",
        "prefecture",
        false,
        &["kizilsu", "kezilesu", "qizilsu", "克孜勒苏"],
    ),
    (
        "Artux",
        "city",
        false,
        &["artux", "artush", "atushi", "atush", "阿图什"],
    ),
    (
        "Bayingolin Mongol Autonomous Prefecture",
        "prefecture",
        false,
        &["bayingolin", "bayinguoleng", "bayin'gholin", "巴音郭楞"],
    ),
    ("Korla", "city", false, &["korla", "kuerle", "库尔勒"]),
    (
        "Changji Hui Autonomous Prefecture",
        "prefecture",
        false,
        &["changji", "sanji", "昌吉"],
    ),
    (
        "Bortala Mongol Autonomous Prefecture",
        "prefecture",
        false,
        &["bortala", "boertala", "博尔塔拉"],
    ),
    ("Bole", "city", true, &["bole", "bortala city", "博乐"]),
    (
        "Ili Kazakh Autonomous Prefecture",
        "prefecture",
        true,
        &["ili", "yili", "伊犁"],
    ),
    (
        "Yining (Ghulja)",
        "city",
        false,
        &["yining", "ghulja", "gulja", "kuldja", "kulja", "伊宁"],
    ),
    (
        "Tacheng",
        "prefecture",
        false,
        &["tacheng", "chuguchak", "qoqek", "塔城"],
    ),
    (
        "Altay",
        "prefecture",
        true,
        &["altay", "aletai", "altai", "阿勒泰"],
    ),
    ("Shihezi", "XPCC city", false, &["shihezi", "石河子"]),
    (
        "Aral (Alar)",
        "XPCC city",
        true,
        &["aral", "alar", "alaer", "阿拉尔"],
    ),
    (
        "Tumxuk",
        "XPCC city",
        false,
        &["tumxuk", "tumushuke", "图木舒克"],
    ),
    ("Wujiaqu", "XPCC city", false, &["wujiaqu", "五家渠"]),
    ("Beitun", "XPCC city", false, &["beitun", "北屯"]),
    ("Tiemenguan", "XPCC city", false, &["tiemenguan", "铁门关"]),
    ("Shuanghe", "XPCC city", true, &["shuanghe", "双河"]),
    (
        "Kokdala",
        "XPCC city",
        false,
        &["kokdala", "kekedala", "可克达拉"],
    ),
    ("Kunyu", "XPCC city", false, &["kunyu", "昆玉"]),
    ("Huyanghe", "XPCC city", false, &["huyanghe", "胡杨河"]),
    (
        "Kuqa",
        "county-level city",
        false,
        &["kuqa", "kuche", "kucha", "库车"],
    ),
    (
        "Yarkand",
        "county",
        false,
        &["yarkand", "shache", "yarkant", "莎车"],
    ),
    (
        "Kargilik",
        "county",
        false,
        &["kargilik", "yecheng", "karghilik", "叶城"],
    ),
    (
        "Karakax",
        "county",
        false,
        &["karakax", "moyu", "qaraqash", "墨玉"],
    ),
    ("Bachu", "county", false, &["bachu", "maralbexi", "巴楚"]),
    (
        "Kuytun",
        "county-level city",
        false,
        &["kuytun", "kuitun", "奎屯"],
    ),
    (
        "Wusu",
        "county-level city",
        true,
        &["wusu", "shihu", "乌苏"],
    ),
    ("Fukang", "county-level city", true, &["fukang", "阜康"]),
    (
        "Changji Zhundong Economic Zone",
        "industrial zone",
        false,
        &["zhundong", "准东"],
    ),
    ("Manas", "county", true, &["manas", "玛纳斯"]),
    ("Hutubi", "county", false, &["hutubi", "呼图壁"]),
    ("Midong", "district", false, &["midong", "米东"]),
    ("Dushanzi", "district", false, &["dushanzi", "独山子"]),
    ("Qitai", "county", true, &["qitai", "奇台"]),
    (
        "Jimsar",
        "county",
        false,
        &["jimsar", "jimusar", "吉木萨尔"],
    ),
    ("Toksun", "county", false, &["toksun", "tuokexun", "托克逊"]),
    (
        "Shanshan (Piqan)",
        "county",
        true,
        &["shanshan", "piqan", "pichan", "鄯善"],
    ),
    ("Yanqi", "county", false, &["yanqi", "karashahr", "焉耆"]),
    ("Luntai", "county", false, &["luntai", "bugur", "轮台"]),
    (
        "Minfeng (Niya)",
        "county",
        false,
        &["minfeng", "niya", "民丰"],
    ),
    (
        "Keriya (Yutian)",
        "county",
        false,
        &["keriya", "yutian", "于田"],
    ),
];

/// A gazetteer hit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionFlag {
    /// Canonical place name.
    pub place: &'static str,
    pub kind: &'static str,
    /// The spelling found in the text.
    pub matched: String,
}

impl RegionFlag {
    pub fn reason_text(&self, what: &str) -> String {
        format!(
            "{what} names {} ({}, Xinjiang Uyghur Autonomous Region, matched {:?}): UFLPA rebuttable presumption of forced labour applies",
            self.place, self.kind, self.matched
        )
    }
}

/// Lower-case ASCII words of `s`, space-separated and space-padded: " no 5 kashgar road ".
fn words(s: &str) -> String {
    let ascii = to_ascii_lower(s);
    let mut out = String::with_capacity(ascii.len() + 2);
    out.push(' ');
    for w in ascii
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        out.push_str(w);
        out.push(' ');
    }
    out
}

/// Finds a Xinjiang place in an address or place of production. `country` is the ISO code of
/// the address when known.
pub fn xinjiang_flag(text: &str, country: Option<&str>) -> Option<RegionFlag> {
    if text.trim().is_empty() {
        return None;
    }
    let w = words(text);
    let china_context = country.is_some_and(|c| c.eq_ignore_ascii_case("CN"))
        || w.contains(" china ")
        || w.contains(" prc ")
        || w.contains(" xinjiang ")
        || text.contains("中国")
        || text.contains("新疆");
    // Most specific first: prefectures, cities and counties, then the region's own names.
    let specific = GAZETTEER.iter().skip(2);
    let region = GAZETTEER.iter().take(2);
    for (place, kind, ambiguous, spellings) in specific.chain(region) {
        if *ambiguous && !china_context {
            continue;
        }
        for sp in *spellings {
            let found = if sp.is_ascii() {
                let needle = format!(" {} ", words(sp).trim());
                w.contains(&needle)
            } else {
                text.contains(sp)
            };
            if found {
                return Some(RegionFlag {
                    place,
                    kind,
                    matched: sp.to_string(),
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transliteration_variants_flag() {
        for (text, place) in [
            ("No. 88 Renmin Road, Urumqi", "Urumqi"),
            ("Wulumuqi Economic Zone", "Urumqi"),
            ("ÜRÜMQI, PRC", "Urumqi"),
            ("乌鲁木齐市新市区", "Urumqi"),
            ("Kashgar Cotton Mill", "Kashgar"),
            ("Khotan Road 5", "Hotan"),
            ("Hetian Industrial Park", "Hotan"),
            ("Turfan Grape Co", "Turpan"),
            ("Shihezi, Xinjiang", "Shihezi"),
            (
                "Textile park, Xinjiang, China",
                "Xinjiang Uyghur Autonomous Region",
            ),
            (
                "XPCC 8th Division",
                "Xinjiang Production and Construction Corps",
            ),
            ("Ghulja city", "Yining (Ghulja)"),
        ] {
            let f = xinjiang_flag(text, None).unwrap_or_else(|| panic!("{text} should flag"));
            assert_eq!(f.place, place, "{text}");
        }
        assert_eq!(
            xinjiang_flag("Zhundong polysilicon plant", None).map(|f| f.place),
            Some("Changji Zhundong Economic Zone")
        );
    }

    #[test]
    fn ambiguous_names_need_china_context() {
        assert_eq!(xinjiang_flag("Aksu, Antalya", Some("TR")), None);
        assert_eq!(xinjiang_flag("Altay Krai, Barnaul", Some("RU")), None);
        assert_eq!(
            xinjiang_flag("Aksu Textile Co", Some("CN")).map(|f| f.place),
            Some("Aksu")
        );
        assert_eq!(
            xinjiang_flag("Aksu Prefecture, China", None).map(|f| f.place),
            Some("Aksu")
        );
    }

    #[test]
    fn whole_words_only() {
        assert_eq!(xinjiang_flag("Kashihara, Nara", Some("JP")), None);
        assert_eq!(xinjiang_flag("Hamilton Road", Some("CN")), None);
        assert_eq!(xinjiang_flag("Shenzhen, Guangdong", Some("CN")), None);
        assert_eq!(xinjiang_flag("", Some("CN")), None);
    }
}
