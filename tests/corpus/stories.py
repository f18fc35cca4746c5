"""The base stories of the dedupe corpus: the seed article and hand-written stories on the same
topic (SenseTime, Singapore, AI funding), which share names and vocabulary but not the story.
Each is a headline and its paragraphs; `generate.py` derives the variants from them."""

from __future__ import annotations

from tests.fixturefiles import seed_article

_SEED = seed_article()

STORIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "sensetime-singapore": (_SEED.headline, _SEED.paragraphs),
    "sensetime-lab": (
        "SenseTime Opens Joint Research Lab With NTU Singapore",
        (
            "SenseTime and Nanyang Technological University have opened a joint laboratory on "
            "the NTU campus that will study computer vision for healthcare and transport, the "
            "two partners announced on Tuesday.",
            "The lab will employ about forty researchers and doctoral students in its first "
            "year. SenseTime will fund the equipment and provide access to its training "
            "clusters in Beijing, while NTU will host the team and supervise the students.",
            "Professor Tang Xiao'ou, who founded SenseTime after teaching at the Chinese "
            "University of Hong Kong, said the lab would publish its work openly and that "
            "patents would be shared between the university and the company.",
            "The first projects look at detecting falls in elderly care homes from camera "
            "footage and at predicting crowding on the MRT network during the morning peak. "
            "Both projects will use data that the Land Transport Authority and two hospitals "
            "have agreed to anonymise before it reaches the researchers.",
            "NTU already runs similar joint labs with Alibaba, Rolls-Royce and Singtel. The "
            "university says industry partners now fund about a fifth of its research budget.",
            "Singapore has tried for years to attract the research arms of large technology "
            "companies. The Economic Development Board offers grants that cover part of the "
            "salaries of researchers hired locally, and several American firms have used them "
            "to open labs.",
            "SenseTime said the Singapore team would work closely with its offices in Hong "
            "Kong, Shenzhen and Kyoto. Engineers will rotate between the sites, and the "
            "company plans to bring some of its own staff to teach short courses at the "
            "university.",
            "Students who join the lab will be able to spend a semester at SenseTime in "
            "Beijing. The company says it hopes to hire some of them after they graduate, "
            "although the agreement does not oblige them to join.",
            "The announcement follows memoranda the company signed earlier this month with "
            "the National Supercomputing Centre and the telecommunications group Singtel.",
        ),
    ),
    "sensetime-funding": (
        "SenseTime Closes $620 Million Series C+ Round Weeks After Alibaba Deal",
        (
            "SenseTime has raised another $620 million from investors including Fidelity "
            "International, Hopu Investments and Silver Lake, only weeks after closing a $600 "
            "million round led by Alibaba Group, the company said on Thursday.",
            "The new money values the Beijing start-up at more than $4.5 billion, making it the "
            "most valuable artificial intelligence company in the world according to data from "
            "CB Insights. The company did not disclose the exact valuation.",
            "SenseTime sells facial recognition software to police departments, smartphone "
            "makers and banks. Its chief executive, Xu Li, said the funds would pay for new "
            "supercomputing centres and for hiring in Japan and Southeast Asia.",
            "Investors have poured money into Chinese AI firms this year. Rival Megvii, the "
            "maker of the Face++ platform, is said to be raising a similar amount, and "
            "Yitu Technology closed a round led by Hillhouse Capital in June.",
            "Critics point out that a large share of the revenue of these companies comes from "
            "surveillance contracts with local governments, which could become a liability as "
            "overseas expansion brings closer scrutiny of privacy practices.",
            "The company has grown quickly since it was founded in 2014 by a group of "
            "researchers from the Chinese University of Hong Kong. It now employs more than "
            "two thousand people and says it has over seven hundred customers, including "
            "Honda, Qualcomm and China Mobile.",
            "Executives have said they want to build their own chips and to reduce their "
            "reliance on processors from Nvidia, which supplies most of the hardware used to "
            "train their models. A chip design team was set up in Shenzhen last year.",
            "SenseTime has not said when it plans to go public. People familiar with the "
            "matter said bankers had pitched listings in Hong Kong and New York, but that the "
            "company was in no hurry while private investors remained willing to fund it.",
        ),
    ),
    "singtel-5g": (
        "Singtel Picks Chinese and European Vendors for Its 5G Trials in Singapore",
        (
            "Singapore Telecommunications has selected equipment from Ericsson and Huawei for "
            "the 5G trials it will run in the one-north business park and at Singapore "
            "Polytechnic from next year, the operator said on Monday.",
            "The trials will test self-driving shuttles, remote-controlled port cranes and "
            "video analytics for building security. Singtel said several artificial "
            "intelligence companies, including SenseTime, had asked to use the network to "
            "test video applications that need very low latency.",
            "The Infocomm Media Development Authority waived spectrum fees for the trials and "
            "plans to auction licences for commercial 5G networks in 2020. Singtel competes "
            "with StarHub, M1 and the newcomer TPG Telecom for the licences.",
            "Analysts expect the government to award two nationwide networks rather than four, "
            "which would push the smaller operators to share infrastructure. Singtel shares "
            "closed slightly higher on the Singapore Exchange after the announcement.",
            "Singtel has been one of the most active operators in Asia in testing new mobile "
            "technology. It ran a pilot of narrowband networks for smart meters last year and "
            "has invested in several regional operators, including Telkomsel in Indonesia and "
            "AIS in Thailand.",
            "Its choice of Huawei contrasts with the decisions of operators in Australia, "
            "where the government has barred the Chinese company from supplying 5G equipment "
            "on security grounds. Singapore has said it does not exclude any vendor in "
            "advance.",
            "The operator said it would spend about S$100 million on the trials and related "
            "upgrades over the next two years, and that customers would be able to buy 5G "
            "phones once commercial licences are awarded.",
            "Singtel's enterprise unit will run the trials with partners from the port, "
            "transport and security industries, and will publish the results to help set "
            "standards.",
        ),
    ),
    "ai-singapore": (
        "Singapore Sets Aside S$150 Million for National AI Programme",
        (
            "The National Research Foundation of Singapore will spend up to S$150 million over "
            "five years on AI Singapore, a programme that brings together universities, "
            "government agencies and companies to apply artificial intelligence to local "
            "problems.",
            "The programme will fund research grants, a hundred industry projects and an "
            "apprenticeship scheme that trains engineers for nine months on real company "
            "problems. The National University of Singapore will host its headquarters.",
            "Officials said healthcare, urban mobility and finance would be the first areas. "
            "The Monetary Authority of Singapore is already working with banks on fraud "
            "detection, and the Ministry of Health wants models that read medical scans.",
            "Chinese firms have been courting Singapore as a base for Southeast Asia. Alibaba "
            "took control of Lazada, SenseTime signed agreements with local institutions, and "
            "Tencent has been recruiting engineers for a regional cloud centre.",
            "The government said the programme would publish its software and data sets where "
            "possible, so that smaller companies can use the results as well.",
            "The apprenticeship scheme has drawn strong interest. Officials said more than "
            "two thousand people had applied for the first intake of about fifty places, many "
            "of them mid-career engineers who want to move into machine learning.",
            "Companies that join an industry project pay for part of the cost and keep the "
            "rights to use the result, while the programme keeps the right to publish what it "
            "learns. The first projects include a model that predicts maintenance needs for "
            "lifts in public housing blocks.",
            "Some researchers have questioned whether a country of five million people can "
            "compete with the United States and China in artificial intelligence. Officials "
            "reply that Singapore does not need to build the largest models, only to use them "
            "well.",
            "A separate advisory council on the ethical use of AI and data will be set up "
            "later in the year, chaired by a former attorney-general.",
        ),
    ),
    "megvii-asia": (
        "Megvii Brings Face++ Recognition Platform to Thailand and Malaysia",
        (
            "Megvii, the Beijing company behind the Face++ facial recognition platform, has "
            "signed distribution agreements in Thailand and Malaysia as it looks for growth "
            "outside China ahead of a possible stock market listing.",
            "The company will supply recognition software for building access control and for "
            "retail analytics through local system integrators. It did not say which "
            "customers had signed up, but said a Malaysian bank was testing identity checks "
            "for its mobile application.",
            "Megvii competes with SenseTime and Yitu for contracts with Chinese city "
            "governments, where cameras linked to recognition systems have spread rapidly. "
            "Overseas, the companies face stricter questions about where the data is stored.",
            "The company raised $460 million last year in a round led by a state-backed fund. "
            "Its chief executive, Yin Qi, told reporters in Bangkok that Southeast Asia would "
            "account for a tenth of its revenue within three years.",
            "The company has been expanding its partnerships with hardware makers so that its "
            "software runs on cheaper cameras. It has agreements with several manufacturers "
            "in Shenzhen and says the cost of a recognition-ready camera has halved in two "
            "years.",
            "In Thailand, the company will work with a systems integrator that installs "
            "security equipment in shopping malls and office towers in Bangkok. In Malaysia, "
            "it has set up a joint venture with a local technology group listed in Kuala "
            "Lumpur.",
            "Privacy advocates in both countries have raised concerns about the spread of "
            "facial recognition in public spaces, where laws on personal data say little "
            "about cameras. Megvii said its customers were responsible for complying with "
            "local rules.",
            "The company also plans to open a research office in Singapore, where it will "
            "compete for talent with SenseTime, Alibaba and the large American technology "
            "groups.",
        ),
    ),
    "nscc-supercomputer": (
        "Singapore's National Supercomputing Centre Orders GPU Cluster for AI Research",
        (
            "The National Supercomputing Centre of Singapore has ordered a cluster of "
            "graphics processors that will triple the computing power available to "
            "researchers training artificial intelligence models, the centre said.",
            "The new system will be installed at the Fusionopolis complex by the end of the "
            "year and connected to universities and research institutes over a dedicated "
            "fibre network. Users will book time through the same portal as for the existing "
            "ASPIRE 1 supercomputer.",
            "Demand for machine time has grown sharply as research groups move from "
            "simulation to deep learning. The centre said requests for GPU hours had doubled "
            "in twelve months, and that waiting times had stretched to several weeks.",
            "The centre has signed memoranda with several companies that want access to the "
            "machines, including the Chinese AI firm SenseTime, and will reserve a share of "
            "capacity for start-ups from the AI Singapore programme.",
            "The centre was set up in 2015 by the Agency for Science, Technology and "
            "Research, Nanyang Technological University and the National University of "
            "Singapore to pool the country's investments in high-performance computing.",
            "Researchers have used its machines to model the spread of dengue fever, to "
            "simulate air flows around new buildings and to study genomes of patients with "
            "rare diseases. The share of jobs that use machine learning rose from a tenth to "
            "a third in two years.",
            "The centre did not name the supplier of the new cluster or its cost. Industry "
            "analysts estimated that a system of its size would cost between S$30 million and "
            "S$50 million, including the cooling upgrades it needs.",
            "Officials said a larger national supercomputer was being planned for 2021, and "
            "that companies would be invited to contribute to its cost in exchange for "
            "machine time.",
        ),
    ),
    "yitu-funding": (
        "Yitu Technology Raises $200 Million to Expand Medical Imaging Business",
        (
            "Shanghai-based Yitu Technology has raised $200 million in a round led by "
            "Hillhouse Capital, with ICBC International and Gaocheng Capital taking part, the "
            "company said on Wednesday.",
            "Yitu is best known for facial recognition systems used by police and airports, "
            "but it said most of the new money would go to its medical imaging unit, which "
            "sells software that helps doctors read lung scans and detect early cancers.",
            "The company said its software was now used in more than 150 hospitals across "
            "China and that it had applied for approval to sell it in the United States. It "
            "plans to open an office in Singapore to serve hospitals in Southeast Asia.",
            "Chinese AI companies raised more money than their American peers last year, "
            "according to CB Insights, with SenseTime, Megvii and Yitu together taking more "
            "than a third of the total. Investors expect some of them to list in Hong Kong.",
            "The company was founded in 2012 by Zhu Long, a former researcher at the "
            "University of California, Los Angeles, and Lin Chenxi, who previously worked at "
            "Alibaba's cloud computing arm. It employs about a thousand people.",
            "Its recognition systems are used at border checkpoints and in the metro of "
            "several Chinese cities, where passengers can pay by showing their face. The "
            "company says its algorithms have won international benchmark tests run by the "
            "American standards agency.",
            "Hospitals say the imaging software saves time but does not replace radiologists. "
            "A doctor at a Shanghai hospital said it flagged possible nodules that were then "
            "checked by two specialists, which reduced the number of cases that were missed.",
            "Yitu also plans to develop its own chips for running models in cameras and "
            "phones, following a path taken by several of its Chinese rivals.",
        ),
    ),
    "meituan-drones": (
        "Meituan Tests Drone Deliveries for Food Orders in Beijing Suburbs",
        (
            "Meituan Dianping has started a three-month trial of drone deliveries for takeaway "
            "orders in two outer districts of Beijing, the company said on Sunday. The drones "
            "carry up to 2.5 kilograms and fly fixed routes between a restaurant hub and "
            "landing stations near residential compounds.",
            "Couriers still bring the final order to the door. The company says the drones cut "
            "average delivery time on the trial routes from 38 minutes to 21 minutes, mostly "
            "by avoiding congested ring-road junctions during lunch hours.",
            "Regulators approved the trial under a temporary permit that limits flights to "
            "daylight hours and altitudes below 120 meters. Meituan plans to publish safety "
            "data at the end of the trial before applying for a wider licence.",
            "Rival Ele.me, owned by Alibaba, received a similar permit for a shopping district "
            "in Shanghai earlier this year, and JD.com has flown parcels to villages in "
            "Shaanxi province since 2016.",
            "The company has been under pressure to cut delivery costs, which rose sharply "
            "last year as it competed with Ele.me for customers and riders. Subsidies for "
            "both diners and restaurants have kept its food delivery business in the red.",
            "Meituan said the drones were designed by its own engineers and built by a "
            "contract manufacturer in Shenzhen. Each one can make about twenty flights a day "
            "before its batteries need to be swapped at a ground station.",
            "Residents of the trial districts will be able to choose drone delivery in the "
            "Meituan app for orders from about three hundred restaurants. The company said "
            "prices would be the same as for ordinary delivery during the trial.",
            "Analysts said regular drone deliveries in dense city centres were still years "
            "away, because of airspace rules and the difficulty of landing in crowded "
            "streets.",
        ),
    ),
}
