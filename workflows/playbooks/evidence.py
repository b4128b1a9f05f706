"""The words of evidence the built-in playbooks trigger on, shared between them.

Each constant is a trigger rule pattern (`re:`, searched case-insensitively in the rule
name and the title, see :class:`workflows.sdk.Trigger`). They say what an alert is
*about*: a host that fell (malware, command and control), an account taken over
(impossible travel, MFA fatigue), or an attack that was tried (brute force, scan) — and
a tried attack makes its target a victim, not a suspect. Your own playbooks may use
them too: ``Trigger(rule=COMPROMISE, unless_rule=ATTEMPT)``.
"""

from __future__ import annotations

from workflows.sdk import (
    AddressClass,
    ObservableMatch,
    ObservableRole,
    ObservableType,
    Trigger,
    Verdict,
)

COMPROMISE = (
    r"re:malware|ransom|trojan|rootkit|rootcheck|backdoor|\bworm\b|virus|spyware|"
    r"infostealer|\bstealer\b|cryptominer|coin\W?miner|web\W?shell|reverse\W?shell|"
    r"\bc2\b|\bc&c\b|command\W+and\W+control|beacon|cobalt\W?strike|mimikatz|"
    r"credential\W+(theft|dump)|lsass|lateral\W+movement|process\W+(injection|hollowing)|"
    r"implant"
)
"""What says a host is compromised: malware and ransomware, command and control and its
beacons, credential theft on the host, post-exploitation tooling, Wazuh's rootcheck."""

EDR_SOURCES = (
    "crowdstrike*",
    "falcon*",
    "defender*",
    "mde*",
    "microsoft-defender*",
    "sentinelone*",
    "s1-*",
    "carbonblack*",
    "carbon-black*",
    "cortex*",
    "sophos*",
    "edr*",
)
"""Alert source names read as an endpoint detection product: a detection of high
severity from one is about the endpoint itself. Name your EDR's source accordingly
(`[sources.crowdstrike]`), or give the playbook a trigger of your own."""

GUESSING = r"brute\W?forc|password\W?spray|credential\W?stuffing|invalid\W+user"
"""Guessing at accounts: brute force, spraying, stuffing, invalid users."""

FAILED_SIGN_IN = (
    r"fail\w*\W+(\w+\W+)?(log\W?[io]n|logon|sign\W?[io]n|auth\w*|password)|"
    r"(log\W?[io]n|logon|sign\W?[io]n|authentication|password)\W+(\w+\W+)?fail"
)
"""A sign-in that failed ("failed login", "logon failure", "authentication failed")."""

SCANNING = (
    r"(port|host|network|vulnerability|ping|syn|tcp|udp)\W?(scan|sweep)|"
    r"\bnmap\b|masscan|\bscan\w*\W+(from|against)\b"
)
"""Reconnaissance: port scans, host sweeps, vulnerability scans."""

ATTEMPT = f"re:{GUESSING}|{FAILED_SIGN_IN}|{SCANNING}"
"""An attack that was tried against a host or an account: a guess, a failed sign-in,
a scan. It names its target, and says nothing of the target having fallen."""

ATTACK = (
    f"re:{GUESSING}|{SCANNING}|\\bscan\\w*|sweep|exploit|\\bcve-\\d|injection|\\bsqli\\b|"
    r"\bxss\b|path\W?traversal|jndi|log4(j|shell)|remote\W+code\W+execution|\brce\b|"
    r"\bc2\b|\bc&c\b|command\W+and\W+control|beacon|\bddos\b|denial\W+of\W+service"
)
"""What an outside address does that is worth blocking it for: guessing at accounts,
scanning, exploiting, web attacks, command and control, flooding."""

TAKEOVER = (
    r"re:impossible\W+travel|atypical\W+travel|unfamiliar\W+sign\W?in|"
    r"anomalous\W+(sign\W?in|log\W?[io]n|token|session)|"
    r"token\W+(theft|replay)|session\W+(hijack|theft|cookie\W+theft)|"
    r"\bmfa\W+(fatigue|bomb|spam|push)|push\W+(fatigue|bomb|spam)|"
    r"(compromised|leaked|stolen|exposed)\W+(account|credential|password|user)|"
    r"inbox\W+(forward|rule)|forwarding\W+rule|"
    r"(admin|illicit|oauth)\W+consent|"
    r"(brute\W?forc\w*|spray\w*|stuffing)\W+(\w+\W+){0,3}(success|succeeded)|"
    r"success\w*\W+(\w+\W+){0,4}(after|following)\W+(\w+\W+){0,3}"
    r"(brute|fail|spray|stuffing)"
)
"""What says an account is in someone else's hands: impossible travel, anomalous
sign-ins and tokens, MFA fatigue, leaked credentials, mailbox forwarding, consent
grants, and a success after guessing (credential stuffing that worked)."""

BAD_SCORE = 65
"""A `suspicious` triage justifies an action from this score on. A high alert starts at
55, so it takes ten points of corroboration on top (a provider calling something
suspicious, a VIP, a critical host) — or a critical alert — to get there; a `malicious`
verdict always justifies it (see :mod:`soar.enrichment.scoring`)."""


def bad_triage(trigger: Trigger) -> tuple[Trigger, Trigger]:
    """The trigger twice, once needing a `malicious` verdict and once a score of at
    least :data:`BAD_SCORE`: it matches when the triage is bad either way."""
    return (
        trigger.model_copy(update={"min_verdict": Verdict.MALICIOUS}),
        trigger.model_copy(update={"min_score": BAD_SCORE}),
    )


PUBLIC_SOURCE = ObservableMatch(
    type=ObservableType.IP,
    roles=frozenset({ObservableRole.SOURCE, ObservableRole.ACTOR}),
    address_classes=frozenset({AddressClass.PUBLIC}),
)
"""A public address in the source or actor role: one that can be blocked at the edge.
Private, documentation, loopback and reserved addresses never are."""
