"""What the demo help desk is made of: people's names, places, and the tickets a real desk sees.

Phone numbers come from the ranges Ofcom keeps for drama (0113 496 0xxx, 0161 496 0xxx,
07700 900xxx), so no real person is ever dialled from the demo.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FIRST_NAMES = [
    "Aisha", "Alex", "Amelia", "Arjun", "Ben", "Bethany", "Callum", "Chloe", "Connor", "Daniel",
    "Deepa", "Eleanor", "Ella", "Emeka", "Ethan", "Fatima", "Finn", "Freya", "George", "Grace",
    "Hannah", "Harry", "Imran", "Isla", "Jack", "James", "Jasmine", "Jodie", "Joseph", "Kate",
    "Kieran", "Laura", "Leon", "Lily", "Lucy", "Luke", "Maria", "Mark", "Megan", "Mohammed",
    "Molly", "Nadia", "Nathan", "Niamh", "Noah", "Olivia", "Oscar", "Priya", "Rachel", "Rhys",
    "Rosie", "Ryan", "Sam", "Sara", "Sean", "Sophie", "Tariq", "Tom", "Wei", "Zara",
]  # fmt: skip
LAST_NAMES = [
    "Ahmed", "Bailey", "Baker", "Bennett", "Brown", "Campbell", "Carter", "Chen", "Clarke",
    "Collins", "Cooper", "Davies", "Doyle", "Edwards", "Evans", "Fisher", "Foster", "Green",
    "Hall", "Harris", "Hughes", "Hussain", "Jackson", "James", "Johnson", "Jones", "Kaur",
    "Kelly", "Khan", "Lewis", "Marshall", "Mitchell", "Morgan", "Murphy", "Nowak", "Okafor",
    "Parker", "Patel", "Phillips", "Price", "Reid", "Roberts", "Robinson", "Shah", "Singh",
    "Smith", "Taylor", "Thomas", "Thompson", "Turner", "Walker", "Ward", "Watson", "White",
    "Williams", "Wilson", "Wood", "Wright", "Young",
]  # fmt: skip

# name, address, phone prefix (drama range), desk prefix
LOCATIONS = [
    ("Head Office, Leeds", "1 Wellington Place, Leeds LS1 4AP", "0113 496 0", "LDS"),
    ("Manchester Hub", "3 Hardman Street, Manchester M3 3HF", "0161 496 0", "MAN"),
    ("Remote / Home", "", "07700 900", ""),
]
LOCATION_WEIGHTS = [55, 30, 15]

DEPARTMENTS = {
    "Finance": [
        "Accounts Payable Clerk", "Management Accountant", "Payroll Officer", "Finance Business Partner",
        "Credit Controller", "Financial Controller",
    ],
    "Sales": [
        "Account Manager", "Sales Executive", "Business Development Manager", "Sales Coordinator",
        "Key Account Director", "Inside Sales Representative",
    ],
    "Marketing": [
        "Marketing Executive", "Content Designer", "Digital Campaigns Manager", "Brand Manager",
        "Events Coordinator", "Social Media Officer",
    ],
    "Operations": [
        "Operations Analyst", "Facilities Coordinator", "Logistics Planner", "Office Manager",
        "Procurement Officer", "Operations Director",
    ],
    "Human Resources": [
        "HR Advisor", "Recruitment Partner", "Learning & Development Lead", "HR Administrator",
        "People Operations Manager",
    ],
    "Engineering": [
        "Software Engineer", "QA Analyst", "Product Manager", "Data Engineer", "Engineering Manager",
        "UX Researcher", "Site Reliability Engineer",
    ],
}  # fmt: skip
DEPARTMENT_WEIGHTS = {
    "Finance": 15,
    "Sales": 22,
    "Marketing": 12,
    "Operations": 20,
    "Human Resources": 8,
    "Engineering": 23,
}

SKILLS = [
    "Active Directory", "Hardware repair", "Linux", "macOS", "Microsoft 365", "Networking",
    "Printers", "Security", "SQL Server", "Telephony", "VPN", "Windows",
]  # fmt: skip

# username, first, last, tier, job title, skills. With the demo users tier1, tier2 and tier3
# these make the 12 technicians: 5 at Tier 1, 4 at Tier 2, 3 at Tier 3.
TECHNICIANS = [
    ("priya.shah", "Priya", "Shah", 1, "Service Desk Analyst", ["Microsoft 365", "Windows"]),
    ("callum.reid", "Callum", "Reid", 1, "Service Desk Analyst", ["Printers", "Telephony"]),
    ("jodie.marsh", "Jodie", "Marsh", 1, "Service Desk Analyst", ["Microsoft 365", "VPN"]),
    ("emeka.okafor", "Emeka", "Okafor", 1, "Senior Service Desk Analyst", ["Active Directory"]),
    ("daniel.nowak", "Daniel", "Nowak", 2, "Desktop Support Engineer", ["Hardware repair", "Windows"]),
    ("fatima.hussain", "Fatima", "Hussain", 2, "Applications Specialist", ["Microsoft 365", "SQL Server"]),
    ("george.wright", "George", "Wright", 2, "Desktop Support Engineer", ["Printers", "macOS"]),
    ("wei.chen", "Wei", "Chen", 3, "Infrastructure Engineer", ["Networking", "VPN", "Linux"]),
    ("rhys.morgan", "Rhys", "Morgan", 3, "Systems Engineer", ["Active Directory", "Security"]),
]  # fmt: skip

# username, first, last, role, tier (0: none), job title, what it shows
DEMO_USERS = [
    ("admin", "Alex", "Admin", "admin", 0, "IT Manager", "administrator"),
    ("tier1", "Tess", "Walker", "technician", 1, "Service Desk Analyst", "technician, tier 1"),
    ("tier2", "Theo", "Bennett", "technician", 2, "Desktop Support Engineer", "technician, tier 2"),
    ("tier3", "Thea", "Fisher", "technician", 3, "Infrastructure Engineer", "technician, tier 3"),
    ("lead", "Lee", "Harrison", "lead", 0, "Service Desk Team Lead", "team lead"),
    ("employee", "Erin", "Matthews", "requester", 0, "Account Manager", "requester (portal)"),
    ("employee2", "Omar", "Siddiqui", "requester", 0, "Payroll Officer", "requester (portal)"),
]

PRINTERS = ["PRN-LDS-1F-01", "PRN-LDS-2F-01", "PRN-LDS-2F-02", "PRN-LDS-3F-01", "PRN-MAN-GF-01",
            "PRN-MAN-1F-01"]  # fmt: skip
LAPTOPS = ["Dell Latitude 5440", "Dell Latitude 7440", "Lenovo ThinkPad T14", "HP EliteBook 840",
           "MacBook Air M2", "Lenovo ThinkPad X1 Carbon"]  # fmt: skip
MONITORS = ["Dell P2422H", "Dell U2723QE", "HP E24 G5", "iiyama ProLite XUB2493"]
APPS = ["Sage 200", "Salesforce", "Adobe Acrobat Pro", "Power BI Desktop", "Visio", "Zoom",
        "Slack", "Xero", "Tableau", "Visual Studio Code", "Figma", "7-Zip"]  # fmt: skip
BUSINESS_APPS = ["Sage 200", "Salesforce", "the expenses portal", "the HR system (Cascade)",
                 "the booking system", "the CRM"]  # fmt: skip
SHARES = ["\\\\fs01\\Finance", "\\\\fs01\\Sales\\Quotes", "\\\\fs01\\Marketing\\Assets",
          "\\\\fs02\\Operations", "\\\\fs02\\HR\\Confidential", "\\\\fs01\\Projects"]  # fmt: skip
MEETING_ROOMS = ["Aire meeting room", "Calder room", "Irwell room", "the boardroom",
                 "the 2nd floor breakout area", "the training room"]  # fmt: skip
ERRORS = ["0x80070005", "0x800CCC0E", "809", "720", "0x80004005", "CAA50021"]


@dataclass(frozen=True)
class Kind:
    """One kind of request the desk gets, with the words people and technicians use for it."""

    key: str
    category: tuple[str, str]
    weight: int
    # (subject, description) as a requester would write them
    requests: list[tuple[str, str]]
    replies: list[str]
    requester_replies: list[str]
    notes: list[str]
    resolutions: list[str]
    codes: list[str]
    # impact, urgency weights: (high, medium, low)
    impact: tuple[int, int, int] = (10, 50, 40)
    urgency: tuple[int, int, int] = (15, 55, 30)
    escalate2: float = 0.15
    escalate3: float = 0.2  # of those at tier 2
    escalations: list[str] = field(default_factory=list)
    visit: bool = False
    checklist: list[str] = field(default_factory=list)
    visit_outcomes: list[str] = field(default_factory=list)


KINDS = [
    Kind(
        "password",
        ("Accounts & access", "Password reset"),
        14,
        [
            (
                "Locked out of my account",
                "I've been locked out after a few attempts this morning. I think my phone still had the old password saved for email.",
            ),
            (
                "Password expired and I can't log in",
                "My password expired this morning and the reset page keeps saying the new one doesn't meet the requirements. I've tried several.",
            ),
            (
                "Can't sign in after changing my password",
                "I changed my password on Friday and now my {device} won't accept it. It says the account is locked.",
            ),
            (
                "Account locked again after the weekend",
                "Second Monday in a row my account is locked when I arrive. I haven't typed the password wrong as far as I know.",
            ),
            (
                "Forgot my password ({device})",
                "Back from two weeks' leave and I can't remember my password. I'm at my desk ({desk}) if you need to call.",
            ),
        ],
        [
            "I've unlocked your account. Please sign in with your current password; if your phone keeps asking, remove and re-add the work account there.",
            "Your account was locked by repeated attempts from your phone's mail app. I've unlocked it; please update the password on your phone first.",
        ],
        [
            "Thanks, that worked.",
            "Still locked I'm afraid, same message.",
            "I'm in now, thank you!",
        ],
        [
            "Unlocked in AD; the source of the bad attempts was the iPhone mail profile.",
            "Verified identity by call-back to the number on file before resetting.",
        ],
        [
            "Account unlocked and password reset; the old password was still saved on the mobile mail app.",
            "Password reset after verifying identity; the user signed in successfully while on the call.",
        ],
        ["fixed", "advice"],
        impact=(2, 30, 68),
        urgency=(40, 50, 10),
        escalate2=0.03,
        escalations=[
            "Account keeps relocking every few minutes even after clearing saved credentials; need someone to trace the lockout source on the DCs."
        ],
    ),
    Kind(
        "printer",
        ("Hardware", "Printer & scanner"),
        10,
        [
            (
                "Printer {printer} jamming on every page",
                "The printer on our floor ({printer}) jams on nearly every page since this morning. There's a grinding noise from the back tray.",
            ),
            (
                "Can't print to {printer}",
                "Nothing I send to {printer} comes out. It shows in the queue as 'Error - printing' and then disappears.",
            ),
            (
                "{printer} says offline",
                "My laptop shows {printer} as offline although the printer's screen says Ready. Colleagues can print to it.",
            ),
            (
                "Scanning to email stopped working on {printer}",
                "When I scan to email on {printer} nothing arrives. It worked last week. Other people on the floor have the same problem.",
            ),
            (
                "Print jobs stuck in the queue",
                "I have five jobs stuck in the queue for {printer} and I can't delete them. I need to print contracts for a 2pm meeting.",
            ),
        ],
        [
            "I've cleared the print queue and re-added {printer} to your laptop. Could you try printing a test page?",
            "Thanks for reporting. I've checked the printer remotely: it shows a paper jam in tray 2. Could someone on the floor check the tray for torn paper?",
        ],
        [
            "Test page printed fine, thanks.",
            "Still nothing coming out.",
            "Checked tray 2, there was a torn sheet. Working now.",
        ],
        [
            "Print spooler on the print server was stuck; restarted it.",
            "Scan-to-email failing since the SMTP relay password changed; updated the printer's SMTP settings.",
        ],
        [
            "Cleared the stuck jobs, restarted the spooler and re-added the printer; test page printed.",
            "Replaced the worn pickup roller in tray 2; no further jams in 50 test pages.",
            "Updated the scan-to-email SMTP settings on the printer; scans arrive again.",
        ],
        ["fixed", "replaced", "workaround"],
        escalate2=0.2,
        escalations=[
            "Jams persist after clearing the paper path and a firmware restart; the pickup roller looks worn. Needs a visit."
        ],
        visit=True,
        checklist=[
            "Check paper path and trays",
            "Replace pickup roller if worn",
            "Print 20 test pages",
            "Clear error log",
        ],
        visit_outcomes=[
            "Replaced the pickup roller and separation pad; 50 pages printed without a jam."
        ],
    ),
    Kind(
        "vpn",
        ("Network", "VPN"),
        9,
        [
            (
                "VPN won't connect from home",
                "Working from home today and the VPN client just spins on 'Connecting' then gives up. Home broadband is fine otherwise.",
            ),
            (
                "VPN drops every few minutes",
                "The VPN connects but drops every 5-10 minutes, which kills my Teams calls. Started after the update last Tuesday.",
            ),
            (
                "VPN error {error} when connecting",
                "Every time I try to connect the VPN I get error {error}. I've restarted the laptop and the router.",
            ),
            (
                "Can't reach {share} over the VPN",
                "I'm connected to the VPN but can't open {share}. Email and Teams work.",
            ),
        ],
        [
            "Could you tell me which version of the VPN client you have (click the icon, then About)? And are you on home Wi-Fi or a hotspot?",
            "I've pushed the latest VPN profile to your laptop. Please restart and try again.",
        ],
        [
            "Version 5.1.2, on home Wi-Fi.",
            "Restarted and it connects now.",
            "Still dropping after the restart.",
        ],
        [
            "Client on 5.1.2 has the known DTLS issue; upgrade to 5.1.4.",
            "Home router blocks UDP 443; TCP fallback works.",
        ],
        [
            "Upgraded the VPN client and reset the profile; connection stable for a full day.",
            "The home router blocks the VPN's UDP traffic; switched the profile to TCP and it now stays connected.",
        ],
        ["fixed", "workaround", "installed"],
        impact=(10, 60, 30),
        urgency=(30, 55, 15),
        escalate2=0.2,
        escalate3=0.5,
        escalations=[
            "Client upgraded and profile reset, still drops every ~7 minutes. Logs show repeated DPD timeouts from the gateway; needs a look at the concentrator.",
            "VPN connects but no routes to the file servers are pushed for this user's group; looks like a gateway policy issue.",
        ],
    ),
    Kind(
        "outlook",
        ("Software", "Email & calendar"),
        10,
        [
            (
                "Outlook keeps asking for my password",
                "Outlook pops up a password box every few minutes. I type it in and it comes back.",
            ),
            (
                "Outlook crashes when opening attachments",
                "Since this morning Outlook crashes as soon as I open a PDF attachment. Web mail is fine.",
            ),
            (
                "Shared mailbox not showing in Outlook",
                "I've been given access to the {team_mailbox} shared mailbox but it doesn't appear in Outlook.",
            ),
            (
                "Calendar invites not arriving",
                "People say they've sent me meeting invites but nothing arrives in my calendar, not even in junk.",
            ),
            (
                "Outlook stuck on 'Updating folder'",
                "Outlook has said 'Updating Inbox' for two hours and no new mail is showing. My phone gets the mail.",
            ),
        ],
        [
            "I've cleared your cached credentials and rebuilt your Outlook profile remotely. Please close Outlook and open it again.",
            "Shared mailboxes can take up to an hour to appear after access is granted. I've triggered a sync; please restart Outlook.",
        ],
        [
            "That's fixed it, thanks!",
            "The password box is back again.",
            "The mailbox is there now.",
        ],
        [
            "Stale token in Credential Manager. Cleared and re-authenticated.",
            "Calendar delegate rule was forwarding invites to a former PA; removed.",
        ],
        [
            "Rebuilt the Outlook profile and cleared stale credentials; no more prompts.",
            "Repaired the Office installation; PDF attachments open normally.",
            "Removed an old delegate rule that redirected invites; invites now arrive.",
        ],
        ["fixed", "installed", "advice"],
        escalate2=0.12,
        escalations=[
            "Profile rebuilt and Office repaired but prompts continue; sign-in logs show conditional access blocking legacy auth. Needs a tier 2 check of the policy."
        ],
    ),
    Kind(
        "slow_laptop",
        ("Hardware", "Laptop & desktop"),
        8,
        [
            (
                "Laptop very slow since the update",
                "My {device} has been really slow since last week's update. Opening Excel takes minutes and the fan is always on.",
            ),
            (
                "{device} takes 15 minutes to start",
                "Starting up takes about 15 minutes and then it freezes while loading. Asset tag {asset}.",
            ),
            (
                "Laptop freezing during Teams calls",
                "Teams calls freeze the whole laptop for a few seconds every few minutes. It's a {device}, asset {asset}.",
            ),
            (
                "Fan constantly running and laptop hot",
                "The fan on my {device} runs flat out all day and the underside is too hot to have on my lap.",
            ),
        ],
        [
            "Task Manager shows the disk at 100%. I'm going to run a health check remotely; please leave the laptop on and connected.",
            "I can see a stuck Windows update. I've restarted the update service; please restart the laptop tonight.",
        ],
        ["Seems a bit better today.", "No change, still very slow.", "Left it on, thanks."],
        [
            "SMART shows reallocated sectors on the SSD; drive is failing.",
            "Antivirus full scan scheduled at 10am daily; moved to 1am.",
        ],
        [
            "Replaced the failing SSD and restored the user's profile; boot time under a minute.",
            "Moved the scheduled antivirus scan out of hours and cleared 40 GB of temporary files; performance normal.",
            "Upgraded memory to 16 GB; Teams calls no longer freeze.",
        ],
        ["replaced", "fixed", "workaround"],
        escalate2=0.35,
        escalate3=0.05,
        escalations=[
            "Remote clean-up done and updates applied, still slow. Disk health check shows SMART warnings: needs a hardware visit.",
            "Memory at 95% with Teams and Excel open; 8 GB model. Recommend a RAM upgrade or replacement.",
        ],
        visit=True,
        checklist=[
            "Back up user profile",
            "Replace drive / add memory",
            "Reimage or restore profile",
            "Check boot time",
            "User signs off",
        ],
        visit_outcomes=[
            "Replaced the SSD, restored the profile from backup; boots in 40 seconds. User checked their files.",
            "Fitted an extra 8 GB of memory; Teams and Excel together now use 60%.",
        ],
    ),
    Kind(
        "new_starter",
        ("Accounts & access", "New starter"),
        5,
        [
            (
                "New starter: {colleague} joining {department} on Monday",
                "{colleague} joins {department} on Monday as {job}. They'll need a laptop, email, Teams and access to {share}. Desk is next to mine.",
            ),
            (
                "Laptop and accounts for new starter {colleague}",
                "We have a new {job} starting next week, {colleague}. Please set up their accounts and a laptop with the standard {department} software.",
            ),
            (
                "New starter {colleague}: access to {share}",
                "{colleague} started last week and still can't open {share}. Everything else is working.",
            ),
        ],
        [
            "Thanks. The account is created and the laptop is being built; we'll have it on the desk for 9am on their first day.",
            "Could you confirm the line manager and which distribution lists they should be on?",
        ],
        [
            "Line manager is me; lists: all-{department_lower} and the team channel.",
            "Perfect, thank you.",
            "They've arrived and everything works.",
        ],
        [
            "Account created from the HR feed; laptop imaged with the {department} bundle.",
            "Waiting on licence assignment for Visio.",
        ],
        [
            "Account, mailbox and laptop ready; access to the shared drive granted and tested with the new starter on day one.",
            "New starter set up: laptop handed over, MFA enrolled at the desk, Teams and shares working.",
        ],
        ["installed", "fixed"],
        impact=(5, 40, 55),
        urgency=(20, 60, 20),
        escalate2=0.6,
        escalate3=0.05,
        escalations=[
            "Accounts are created; laptop needs imaging and hand-over at the desk on the start date."
        ],
        visit=True,
        checklist=[
            "Laptop imaged and encrypted",
            "Enrol MFA with the user",
            "Map shared drives",
            "Test email and Teams",
            "User signs off",
        ],
        visit_outcomes=[
            "Laptop handed over; MFA enrolled; drives, email and Teams tested with the new starter."
        ],
    ),
    Kind(
        "software",
        ("Software", "Install request"),
        8,
        [
            (
                "Please install {app}",
                "Could I have {app} installed please? I need it for a client deliverable this week. My manager has approved.",
            ),
            (
                "Request: {app} for my laptop",
                "The team is moving to {app} next month; could it be installed on my laptop?",
            ),
            (
                "{app} licence needed",
                "I need a licence for {app}; the trial on my laptop has expired.",
            ),
            (
                "{app} won't install from Company Portal",
                "Company Portal shows {app} as 'Failed to install'. I've retried twice.",
            ),
        ],
        [
            "{app} is in the software catalogue; I've assigned it to your laptop and it should install within the hour.",
            "{app} needs a paid licence. I've asked your manager to approve the cost; I'll install it once approved.",
        ],
        ["Installed and working, thanks.", "Manager has approved by email.", "Still says failed."],
        [
            "Licence assigned from the pool (3 left).",
            "Install failing because of a stale MSI cache; cleared.",
        ],
        [
            "{app} installed and licensed; the user confirmed it opens.",
            "Cleared the installer cache and reinstalled {app} from Company Portal.",
        ],
        ["installed", "fixed"],
        impact=(0, 20, 80),
        urgency=(5, 45, 50),
        escalate2=0.15,
        escalations=[
            "Package fails with 1603 on this laptop model; needs repackaging or a manual install by Desktop & Applications."
        ],
    ),
    Kind(
        "network",
        ("Network", "Wired network"),
        5,
        [
            (
                "Network dropping on desk {desk}",
                "My wired connection at desk {desk} keeps dropping for a minute at a time. Others nearby seem fine.",
            ),
            (
                "No network on the 2nd floor east side",
                "Nobody on the east side of the second floor has network since about 10am. Wi-Fi works.",
            ),
            (
                "Docking station network not working",
                "The network port on my docking station shows no lights. Laptop works on Wi-Fi.",
            ),
            (
                "Very slow network in {room}",
                "Everything is very slow from {room}: files take ages to open and video calls stutter.",
            ),
        ],
        [
            "Thanks. I can see the switch port flapping. Could you try a different cable from the drawer in the comms cupboard?",
            "We're aware of an outage on the 2nd floor east switch and are working on it.",
        ],
        ["Swapped the cable, still dropping.", "Back up now, thanks.", "The lights are on again."],
        [
            "Port Gi1/0/23 on LDS-SW-2E flapping; err-disabled twice.",
            "Switch LDS-SW-2E rebooted after a power blip; UPS battery needs replacing.",
        ],
        [
            "Moved the desk to a new switch port and replaced the patch lead; no drops since.",
            "Replaced the failed switch power supply; floor connectivity restored.",
        ],
        ["fixed", "replaced"],
        impact=(25, 45, 30),
        urgency=(30, 50, 20),
        escalate2=0.4,
        escalate3=0.5,
        escalations=[
            "Cable and dock swapped, still dropping. Switch port shows CRC errors; passing to infrastructure.",
            "Several desks affected; looks like the switch, not the desks.",
        ],
        visit=True,
        checklist=[
            "Test wall port with a tester",
            "Replace patch lead",
            "Check switch port",
            "Confirm link stable for 30 minutes",
        ],
        visit_outcomes=[
            "Wall port faulty; re-patched the desk to a spare port and labelled it. Stable for an hour."
        ],
    ),
    Kind(
        "monitor",
        ("Hardware", "Monitor"),
        5,
        [
            (
                "Second monitor not detected",
                "My second monitor ({monitor}) stopped being detected this morning. Cables seem fine.",
            ),
            (
                "Monitor flickering",
                "The screen flickers every few seconds and sometimes goes black. It's the left of my two monitors at desk {desk}.",
            ),
            (
                "Monitor has a cracked screen",
                "The monitor at desk {desk} has a crack across the corner, probably from the office move.",
            ),
            (
                "Docking station no longer detects {monitor}",
                "Since yesterday my dock doesn't pick up the {monitor}. It works if I plug it straight into the laptop.",
            ),
        ],
        [
            "Please try a different cable and the other port on the dock. If it's still not detected we'll send someone up.",
            "I've updated the dock firmware remotely. Please unplug the dock's power for 30 seconds and plug it back in.",
        ],
        [
            "Different cable, same problem.",
            "That worked, both screens are back.",
            "Still flickering.",
        ],
        [
            "Dock firmware outdated (01.00.12); updated.",
            "Spare {monitor} in the store room, asset reserved.",
        ],
        [
            "Replaced the faulty monitor with a spare {monitor}.",
            "Updated the docking station firmware; both monitors detected.",
        ],
        ["replaced", "fixed"],
        impact=(0, 25, 75),
        urgency=(10, 50, 40),
        escalate2=0.45,
        escalate3=0.0,
        escalations=[
            "Cable and ports swapped, dock firmware current; monitor is likely faulty. Needs a swap at the desk."
        ],
        visit=True,
        checklist=[
            "Bring spare monitor",
            "Swap monitor and cables",
            "Set display arrangement",
            "Take faulty unit to store",
        ],
        visit_outcomes=[
            "Swapped the monitor for a spare and returned the faulty one for repair; both screens working."
        ],
    ),
    Kind(
        "wifi",
        ("Network", "Wi-Fi"),
        5,
        [
            (
                "Wi-Fi very weak in {room}",
                "The Wi-Fi in {room} is so weak that video calls keep freezing. It's been like this all week.",
            ),
            (
                "Can't connect to the guest Wi-Fi",
                "We have visitors in {room} and they can't get onto the guest Wi-Fi: the sign-in page never loads.",
            ),
            (
                "Laptop won't join the office Wi-Fi",
                "My laptop says 'Can't connect to this network' for the office Wi-Fi since I got it back from repair.",
            ),
            (
                "Wi-Fi drops when moving between floors",
                "Every time I walk from my desk to {room} the Wi-Fi drops and Teams calls end.",
            ),
        ],
        [
            "I've re-pushed the Wi-Fi certificate to your laptop. Please restart and try again.",
            "Thanks; we'll look at the access point in that room.",
        ],
        ["Connected now.", "Same problem after restart.", "Visitors are online, thanks."],
        [
            "AP-LDS-3F-04 on an old firmware, 2.4 GHz only.",
            "Guest portal certificate expired yesterday.",
        ],
        [
            "Renewed the guest portal certificate; visitors can sign in again.",
            "Re-pushed the Wi-Fi certificate; the laptop joins the network.",
        ],
        ["fixed", "workaround"],
        escalate2=0.25,
        escalate3=0.6,
        escalations=[
            "Several users report weak signal in the same room; looks like the access point, not the laptops."
        ],
    ),
    Kind(
        "shared_drive",
        ("Network", "File shares"),
        6,
        [
            (
                "Access to {share}",
                "I need read/write access to {share} for the quarter-end work. My manager is copied.",
            ),
            (
                "Can't open {share} - access denied",
                "Since yesterday I get 'Access denied' on {share}. I could open it last week.",
            ),
            (
                "Mapped drive missing after restart",
                "After restarting this morning my S: drive ({share}) has gone from File Explorer.",
            ),
            (
                "Files missing from {share}",
                "A folder I was working in on {share} seems to have disappeared. Can it be restored from yesterday?",
            ),
        ],
        [
            "Access needs approval from the folder owner; I've asked them and will update you.",
            "I've restored the folder from last night's snapshot. Please check everything is there.",
        ],
        ["Owner has approved.", "Everything's there, thank you so much.", "Still access denied."],
        ["Owner approved by email; added to the RW group.", "Restored from the 01:00 snapshot."],
        [
            "Added to the share's read/write group after the owner approved; access confirmed.",
            "Restored the folder from last night's snapshot; the user confirmed the files.",
        ],
        ["fixed", "advice"],
        impact=(5, 45, 50),
        urgency=(15, 55, 30),
        escalate2=0.2,
        escalate3=0.3,
        escalations=[
            "Group membership is correct but access still denied; inheritance looks broken on the folder."
        ],
    ),
    Kind(
        "phishing",
        ("Security", "Phishing report"),
        5,
        [
            (
                "Suspicious email claiming to be from {sender}",
                "I received an email that says it's from {sender} asking me to confirm my login. The link goes to a strange address. I haven't clicked it.",
            ),
            (
                "I clicked a link in a phishing email",
                "I'm worried: I clicked a link in an email that looked like a shared document and entered my password before I realised.",
            ),
            (
                "Phishing: fake invoice from a supplier",
                "An invoice arrived from a supplier we use, but the bank details are different from usual and the sender address is slightly wrong.",
            ),
            (
                "Email asking me to re-enter my password",
                "Got an email saying my mailbox is full and I must re-enter my password to keep receiving mail. Looks fake to me.",
            ),
        ],
        [
            "Thank you for reporting it. Please don't click anything; we've removed the email from all mailboxes.",
            "Thanks for telling us straight away. I've reset your password and signed you out everywhere; please sign in again with the new one.",
        ],
        ["Thanks.", "Signed back in, all fine.", "Should I tell my team?"],
        [
            "Purged the message from 43 mailboxes; blocked the sender domain.",
            "Sign-in logs show a successful login from abroad 5 minutes after the click.",
        ],
        [
            "Email purged from all mailboxes and the sender blocked; no one else entered credentials.",
            "Password reset, sessions revoked and MFA re-registered; no further suspicious sign-ins.",
        ],
        ["fixed", "advice"],
        impact=(30, 40, 30),
        urgency=(50, 40, 10),
        escalate2=0.2,
        escalate3=0.7,
        escalations=[
            "User entered credentials on a phishing page; password reset. Sign-in logs show a foreign login: needs a security review."
        ],
    ),
    Kind(
        "teams_phone",
        ("Hardware", "Phone & headset"),
        4,
        [
            (
                "Headset microphone not working in Teams",
                "In Teams calls nobody can hear me through my headset. The headset works on my phone.",
            ),
            (
                "Desk phone shows 'No service'",
                "The desk phone at {desk} shows 'No service' since this morning.",
            ),
            ("Need a new headset", "My headset's earpiece is broken; could I have a replacement?"),
            (
                "Callers can't hear me",
                "Customers say my voice cuts out on calls. It started when I moved to desk {desk}.",
            ),
        ],
        [
            "Please check Teams > Settings > Devices and make sure the headset is chosen as the microphone.",
            "A replacement headset is at the service desk for you to collect.",
        ],
        ["That was it, thank you.", "Collected, thanks.", "It's selected but still silent."],
        ["Headset firmware update fixed the mic.", "Phone lost its PoE port after the re-patch."],
        [
            "Selected the right device in Teams and updated the headset firmware; calls work.",
            "Replaced the broken headset.",
        ],
        ["fixed", "replaced", "advice"],
        impact=(0, 30, 70),
        urgency=(15, 55, 30),
        escalate2=0.1,
    ),
    Kind(
        "business_app",
        ("Software", "Business applications"),
        5,
        [
            (
                "Error logging into {bapp}",
                "When I log into {bapp} I get 'Unexpected error, contact your administrator'. Colleagues can log in.",
            ),
            (
                "{bapp} report not loading",
                "The month-end report in {bapp} just spins and never loads. I need it by Friday.",
            ),
            (
                "{bapp} very slow this morning",
                "{bapp} is taking about a minute per screen this morning. It's the same for the whole team.",
            ),
            (
                "Can't approve expenses in {bapp}",
                "The Approve button is greyed out for my team's claims in {bapp}. I approved them fine last month.",
            ),
        ],
        [
            "Could you send a screenshot of the error and the time it happened?",
            "We've raised this with the supplier and will update you.",
        ],
        ["Screenshot attached, it happened at 09:14.", "Working again now.", "Still slow."],
        [
            "Supplier case opened; known issue with the last update.",
            "User's role was removed in the last permission sync.",
        ],
        [
            "The user's role had been removed in a permission sync; restored it.",
            "The supplier applied a fix to the report; it loads in seconds.",
        ],
        ["fixed", "workaround"],
        impact=(15, 45, 40),
        urgency=(20, 55, 25),
        escalate2=0.35,
        escalate3=0.3,
        escalations=[
            "Role and licence are fine; the error comes from the application server. Needs Applications to check the logs and contact the supplier."
        ],
    ),
    Kind(
        "leaver",
        ("Accounts & access", "Leaver"),
        2,
        [
            (
                "Leaver: {colleague} last day Friday",
                "{colleague} leaves {department} on Friday. Please disable their account at 5pm and forward their email to me for a month.",
            ),
            (
                "Disable account for {colleague}",
                "{colleague} left yesterday. Please disable the account and let me know where to leave the laptop.",
            ),
        ],
        [
            "Scheduled: account disabled at 17:00 Friday, mail forwarded to you for 30 days, laptop to be collected."
        ],
        ["Thanks.", "Laptop is on my desk for collection."],
        ["Disable scheduled; OneDrive shared with the manager."],
        [
            "Account disabled, mail forwarded for 30 days, OneDrive shared with the manager and the laptop collected."
        ],
        ["fixed"],
        impact=(0, 30, 70),
        urgency=(10, 60, 30),
        escalate2=0.05,
    ),
    Kind(
        "lost_device",
        ("Security", "Lost or stolen device"),
        2,
        [
            (
                "Lost my work phone",
                "I can't find my work phone since the client visit yesterday. I've rung it and it's switched off.",
            ),
            (
                "Laptop stolen from car",
                "My work laptop ({device}) was stolen from my car last night. I've reported it to the police (ref CR/{ref}).",
            ),
            (
                "Left laptop on the train",
                "I think I left my work {device} on the train this morning. It's encrypted but I'm worried.",
            ),
        ],
        [
            "I've locked the device remotely and revoked its sessions. If it turns up, bring it to the service desk.",
            "The device is wiped remotely; a replacement is being prepared.",
        ],
        ["Thank you.", "The train company found it!"],
        [
            "Remote lock sent; device last seen at Leeds station.",
            "BitLocker confirmed; no data risk.",
        ],
        ["Device locked and wiped remotely; replacement issued and set up."],
        ["replaced", "fixed"],
        impact=(20, 60, 20),
        urgency=(60, 35, 5),
        escalate2=0.3,
        escalate3=0.3,
        escalations=["Device wiped; need Security to check for sign-ins after the loss time."],
    ),
    Kind(
        "malware",
        ("Security", "Malware"),
        1,
        [
            (
                "Antivirus alert on my laptop",
                "Defender popped up saying it found a threat in my Downloads folder and quarantined it. Should I worry?",
            ),
            (
                "Pop-ups appearing in browser",
                "My browser keeps opening adverts in new tabs, even on work sites.",
            ),
        ],
        [
            "The threat was quarantined automatically. I've run a full scan and removed a browser extension that was causing the pop-ups."
        ],
        ["Thanks, no more pop-ups.", "OK, thanks for checking."],
        ["Adware extension removed; full scan clean."],
        ["Removed a malicious browser extension; full scan clean."],
        ["fixed"],
        impact=(20, 50, 30),
        urgency=(40, 50, 10),
        escalate2=0.3,
        escalate3=0.5,
        escalations=[
            "Defender detected a trojan that came in by email; needs Security to check for spread."
        ],
    ),
    Kind(
        "other",
        ("Other", ""),
        3,
        [
            (
                "Projector in {room} not working",
                "The projector in {room} shows 'No signal' with every laptop we try.",
            ),
            (
                "Question about using my own phone for email",
                "Can I use my personal phone for work email? What do I need to install?",
            ),
            (
                "TV screen in reception is blank",
                "The welcome screen in reception has been blank since Monday. Visitors are arriving on Thursday.",
            ),
            (
                "Need a room set up for a video conference",
                "We have a board meeting on Thursday in {room} and need the video conferencing kit set up.",
            ),
        ],
        [
            "Yes: install Outlook from the app store and sign in; it'll ask you to accept the company policy.",
            "We'll check the projector this afternoon.",
        ],
        ["Great, thanks.", "That works."],
        ["HDMI switcher in the floor box faulty."],
        [
            "Replaced the HDMI switcher; the projector works with laptops again.",
            "Explained how to set up work email on a personal phone.",
        ],
        ["advice", "fixed"],
        impact=(0, 30, 70),
        urgency=(10, 50, 40),
        escalate2=0.2,
        escalate3=0.0,
        visit=True,
        checklist=["Test with a laptop", "Check cables and switcher", "Book room for the visit"],
        visit_outcomes=["Replaced the HDMI switcher; tested with two laptops."],
    ),
]

SENDERS = ["Microsoft 365", "DocuSign", "HMRC", "DHL", "the CEO", "IT Support"]
TEAM_MAILBOXES = ["accounts", "sales-orders", "hr-enquiries", "marketing", "facilities"]

STANDALONE_CALLS = [
    "Asked how to set an out-of-office reply; talked through it.",
    "Password reset after identity check.",
    "Wanted to know the Wi-Fi password for visitors; explained the guest sign-in page.",
    "MFA prompt on new phone; re-registered the authenticator.",
    "How to share a calendar with a PA; walked through it.",
    "Caps lock was on. Signed in fine.",
    "Asked about the status of an open ticket; gave an update.",
]


# Troubleshooting guides: (title, summary, ticket category "Top › Sub", public, steps); each step
# is (number, kind, Markdown text, ((answer, next step number), ...)). Kinds: question, solved,
# escalate (knowledge.models_guides.StepKind).
GUIDES = [
    (
        "Printer prints blank pages",
        "Pages come out of the printer with nothing on them.",
        "Hardware › Printer & scanner",
        True,
        [
            (1, "question", "Do **all** the pages come out blank, or only some?",
             (("All of them", 2), ("Only some, or faint", 5))),
            (2, "question", "Print a test page from the printer's own menu "
             "(**Menu › Reports › Configuration page**). Is the test page blank too?",
             (("Yes, blank too", 3), ("No, it prints fine", 6))),
            (3, "question", "Open the front door and take out the toner cartridge. "
             "Is there an orange **sealing tape** still on it?",
             (("Yes, there is a tape", 4), ("No tape", 9))),
            (4, "solved", "Pull the sealing tape out all the way, put the cartridge back and "
             "close the door. Print again: the pages should come out right.", ()),
            (5, "question", "Take the toner cartridge out, rock it gently from side to side "
             "five or six times and put it back. Are the pages still faint?",
             (("Still faint", 8), ("Fine now", 7))),
            (6, "solved", "The printer works; the computer sends blank pages. Remove the printer "
             "from **Settings › Printers & scanners**, add it again from the list and print "
             "once more.", ()),
            (7, "solved", "The toner had settled. It will run out soon: ask for a new cartridge "
             "from the stationery cupboard before it does.", ()),
            (8, "solved", "The toner is empty. Replace the cartridge (spares are in the "
             "stationery cupboard on each floor).", ()),
            (9, "escalate", "The printer itself prints blank pages with a good cartridge: the "
             "drum or the fuser may be faulty. Tier 2 books a visit.", ()),
        ],
    ),
    (
        "Can't connect to Wi-Fi",
        "The laptop does not connect to the office Wi-Fi, or keeps dropping it.",
        "Network › Wi-Fi",
        True,
        [
            (1, "question", "Is Wi-Fi switched on? Look for the Wi-Fi icon by the clock; on some "
             "laptops a key with an aerial (**Fn+F2**) turns it on and off.",
             (("It's on", 2), ("It was off", 3))),
            (2, "question", "Do you see **CORP-WIFI** in the list of networks?",
             (("Yes", 4), ("No", 8))),
            (3, "solved", "Turn Wi-Fi on, pick **CORP-WIFI** and connect: your laptop signs in "
             "with your work account.", ()),
            (4, "question", "Click **CORP-WIFI**, then **Forget**, then connect to it again. "
             "Does it connect now?",
             (("Yes", 5), ("No, it asks for a password", 6), ("No, another error", 7))),
            (5, "solved", "Forgetting the network cleared an old setting. Nothing else to do.", ()),
            (6, "escalate", "The laptop's Wi-Fi certificate may have expired: the help desk "
             "renews it (it needs the laptop's asset tag).", ()),
            (7, "escalate", "Write down the error message exactly as shown: the network team "
             "looks at the access point's log.", ()),
            (8, "question", "Do colleagues sitting near you see **CORP-WIFI**?",
             (("Yes, they do", 9), ("No, nobody does", 7))),
            (9, "solved", "Restart the laptop (Start › Power › Restart, not shut down). Its Wi-Fi "
             "card starts afresh and finds the network.", ()),
        ],
    ),
]  # fmt: skip
