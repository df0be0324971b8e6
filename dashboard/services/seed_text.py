# ruff: noqa: E501 - the templates are sentences, one a line
"""The seed's demo text: support chat written from sentence templates with slots.

Each thread has a topic (a refund, a late parcel, a login problem, a bug …) and a few facts
drawn once per thread (its order number, invoice, product, device, amount …), so that its title
and its messages talk about the same order. A message is one template of its topic (or a
general chat line) with the slots filled in: `{order}` becomes `A-1042`, `{email}` the author's
address, `{user}` another participant's username (`kim.jones9164`), `{url}` a help or order link.

The tokens support staff search for all occur: usernames, order numbers, invoice numbers,
ticket numbers, emails, URLs, amounts and version numbers. Words the search bench plants
(`kumquat`, `zeppelin`, `xylophonequartz`) never occur here, so their counts are exactly what the
bench plants. Filling a template is a `%` format of precomputed strings: about a microsecond.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

# Words the search bench plants or uses as a guaranteed miss: never produced here.
RESERVED_WORDS = ("kumquat", "zeppelin", "xylophonequartz")

PRODUCTS = (
    "wireless headphones",
    "standing desk",
    "espresso machine",
    "running shoes",
    "winter jacket",
    "phone case",
    "desk lamp",
    "backpack",
    "smart watch",
    "coffee grinder",
    "yoga mat",
    "office chair",
    "bluetooth speaker",
    "water bottle",
    "gift card",
)
PLANS = ("Starter", "Pro", "Business", "Team", "Enterprise")
DEVICES = (
    "iPhone 14",
    "iPhone 12",
    "Pixel 7",
    "Galaxy S23",
    "iPad",
    "Android tablet",
    "Chrome on Windows",
    "Firefox on Linux",
    "Safari on macOS",
    "Edge",
)
CARRIERS = ("DHL", "UPS", "FedEx", "Royal Mail", "PostNL", "DPD", "USPS")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ERRORS = (
    "error 502",
    "ERR_PAYMENT_DECLINED",
    "E-4012",
    "a timeout",
    "error 403",
    "SYNC_CONFLICT",
    "a blank screen",
    "error 500",
)
FEATURES = (
    "dark mode",
    "a bulk export",
    "a calendar view",
    "keyboard shortcuts",
    "saved searches",
    "an API for invoices",
    "two-factor with a hardware key",
    "shared inboxes",
)
ARTICLES = (
    "reset-your-password",
    "track-your-order",
    "refund-policy",
    "change-billing-details",
    "export-your-data",
    "two-factor-authentication",
    "update-the-app",
    "cancel-a-subscription",
)
CURRENCIES = ("$", "$", "€", "£")
CENTS = ("00", "99", "49", "50", "95")


@dataclass(frozen=True)
class Template:
    """A `%` format string and the slot names that fill it, in order."""

    fmt: str
    slots: tuple[str, ...]


_SLOT = re.compile(r"\{(\w+)\}")


def compile_template(text: str) -> Template:
    """'Refund {order} please' → Template('Refund %s please', ('order',))."""
    return Template(_SLOT.sub("%s", text.replace("%", "%%")), tuple(_SLOT.findall(text)))


@dataclass(frozen=True)
class Topic:
    """One kind of support conversation."""

    name: str
    weight: int
    titles: tuple[Template, ...]
    openers: tuple[Template, ...]
    replies: tuple[Template, ...]


def _topic(name: str, weight: int, titles: str, openers: str, replies: str) -> Topic:
    def many(block: str) -> tuple[Template, ...]:
        return tuple(compile_template(line.strip()) for line in block.strip().splitlines())

    return Topic(name, weight, many(titles), many(openers), many(replies))


TOPICS = (
    _topic(
        "refund",
        14,
        """
        Refund for order {order}
        Refund request: {product}
        Charged twice for order {order}
        Refund not received yet
        Return and refund for {order}
        """,
        """
        Hi, I returned the {product} from order {order} on {day} and I'm still waiting for the refund.
        Hello, I was charged {amount} twice for order {order}. Can you refund the second payment?
        Can you refund order {order}? The {product} arrived damaged.
        I'd like a refund for the {product}. It stopped working after two days.
        Hi team, my refund of {amount} for {order} hasn't shown up on my card yet.
        Please refund order {order}, I cancelled it within the hour.
        """,
        """
        Hi {first}, I've issued a refund of {amount} for order {order}. It takes 5-10 business days to show on your card.
        Thanks for waiting. The refund for {order} was approved today.
        Could you send a photo of the damaged {product}? Then I can refund order {order} straight away.
        I can see the return arrived at our warehouse on {day}, so the refund is on its way.
        The refund went back to the card ending in {card}. Your bank may take a few days.
        Our refund policy is here: {url}
        Is the refund for the whole order or only the {product}?
        I refunded order {order} in full, {amount}. Sorry for the trouble!
        Got it, the refund shows on my statement now. Thank you!
        Still no refund on my side. My bank says nothing is pending.
        We only refund the shipping cost when the item was faulty.
        I've escalated the refund to billing as ticket {ticket}.
        The refund shows as a credit note against invoice {invoice}.
        Could you send the invoice number? Then I can match the refund to your payment.
        """,
    ),
    _topic(
        "shipping",
        12,
        """
        Where is order {order}?
        Shipping delay on order {order}
        Parcel marked delivered but not here
        Wrong delivery address on {order}
        Tracking has not moved since {day}
        """,
        """
        Hi, my order {order} was supposed to arrive on {day} but the tracking hasn't changed.
        Hello, {carrier} says the parcel for {order} was delivered, but nothing is here.
        I typed the wrong address for order {order}. Can you still change it?
        The tracking link for {order} shows an error: {url}
        When will the {product} from order {order} ship? It says "processing" for a week.
        """,
        """
        Hi {first}, I checked with {carrier}: order {order} is at the local depot and should arrive tomorrow.
        The tracking page for your order is {url}
        I've updated the delivery address on {order}. The parcel hasn't left the warehouse yet.
        Sorry about the delay. We're shipping the {product} again with express delivery, free of charge.
        Could you check with your neighbours? {carrier} sometimes leaves parcels next door.
        If it doesn't turn up by {day}, we'll send a replacement or a refund, whichever you prefer.
        It arrived this morning, thanks for chasing it!
        Still nothing. Can I get a refund instead?
        The parcel for {order} is stuck in customs; that usually takes 2-3 days.
        I opened an investigation with {carrier}, reference {ticket}.
        """,
    ),
    _topic(
        "login",
        10,
        """
        Can't log in after a password reset
        Two-factor codes not arriving
        Locked out of my account
        Login loop on {device}
        Password reset email never came
        """,
        """
        Hi, I reset my password but the login page still says my password is wrong.
        I'm locked out of my account ({email}) after too many attempts.
        The two-factor code never arrives on my phone. I'm on {device}.
        When I log in on {device} it sends me straight back to the login page.
        I never got the password reset email at {email}. Spam folder is empty too.
        """,
        """
        Hi {first}, I've unlocked your account. Please try to log in again in a few minutes.
        Could you clear the cookies for our site and try again? The login loop is usually an old session.
        I've sent a new reset link to {email}. It is valid for one hour.
        Here are the steps to reset your password: {url}
        Which version of the app are you on? We fixed a login bug in {version}.
        That worked, I'm logged in again. Thanks!
        Still the same error after the reset, I'm afraid.
        I removed the old two-factor device from your account; you can set it up again now.
        Did you sign up with Google or with an email and password?
        I can see three failed logins from a new device this morning. Was that you?
        """,
    ),
    _topic(
        "billing",
        12,
        """
        Invoice {invoice} shows the wrong VAT
        Billing question about the {plan} plan
        Card declined on renewal
        Need a copy of invoice {invoice}
        Charged after I cancelled
        """,
        """
        Hi, invoice {invoice} has the wrong company name and VAT number. Can you fix it?
        Why was I charged {amount} this month? I thought the {plan} plan was cheaper.
        My card was declined on renewal with ERR_PAYMENT_DECLINED, but it works elsewhere.
        Could you send me a copy of invoice {invoice} for our accounting? Email: {email}
        I cancelled last month but was still charged {amount} on invoice {invoice}. I'd like a refund.
        """,
        """
        Hi {first}, I've corrected invoice {invoice} and sent the new PDF to {email}.
        The {plan} plan is billed yearly, so the {amount} covers the next 12 months.
        You can download every invoice from the billing page: {url}
        Card declines usually come from the bank. Could you try another card, or call them?
        I've refunded the {amount} charge; the subscription is cancelled now.
        The refund for invoice {invoice} went out today, with a credit note.
        Thanks, the new invoice looks right.
        Can you add our purchase order number to invoice {invoice}?
        The VAT on invoice {invoice} is for your country; it changes if you add a VAT number.
        I updated your billing email to {email}.
        The payment went through this time. Thank you for the help!
        """,
    ),
    _topic(
        "bug",
        11,
        """
        App crashes when uploading a photo
        Search is slow in large threads
        Export to CSV is missing columns
        Sync stuck on {device}
        {error} on checkout
        Notifications stopped after {version}
        """,
        """
        Since {version} I get a crash, slow sync and sometimes {error} on {device}.
        The app crashes every time I upload a photo on {device}.
        Search takes ages in our big project thread. Is that a known issue?
        The CSV export is missing the order number and amount columns.
        Checkout fails with {error} when I pay for order {order}.
        I stopped getting notifications after updating to {version}.
        """,
        """
        Thanks for the report! Which device and app version are you on?
        I can reproduce the crash on {device}; our developers are on it (ticket {ticket}).
        A fix for this bug is in {version}, out later today.
        Could you send a screenshot of the error? It helps us find the cause.
        The export issue is known; here is a workaround: {url}
        Updating to {version} fixed it for me, thanks.
        It still happens after the update: the app is slow, then it crashes.
        The checkout error came from our payment provider; it was fixed this morning.
        We rolled back the release that broke sync. Please restart the app.
        Known issue, see the status page: {url}
        """,
    ),
    _topic(
        "account",
        8,
        """
        Change the email on my account
        Delete my account and data
        Upgrade from {plan} to Business
        Add a second user to our plan
        Update my company details
        """,
        """
        Hi, how do I change the email on my account from {email} to my work address?
        Please delete my account and all my data.
        We'd like to upgrade from {plan} to Business. Is the price prorated?
        Can I add {user} to our team account?
        Our company moved; where do I update the address on the account?
        """,
        """
        Hi {first}, you can change your email under Settings, Profile. We send a confirmation link.
        I've started the deletion. It completes within 30 days, as our privacy policy says: {url}
        The upgrade is prorated: you pay {amount} for the rest of this billing period.
        {user} has been invited; they need to accept the email invitation.
        Done, the new address is on the account and on future invoices.
        Thanks, all sorted now.
        Is there a way to export my data before the account is deleted?
        You can export everything from Settings, Data: {url}
        """,
    ),
    _topic(
        "feature",
        5,
        """
        Feature idea: {feature}
        Feature request: {feature}
        Any plans for {feature}?
        """,
        """
        Hi, it would be great to have {feature}. Is that on the roadmap?
        Our team would really like {feature}. We'd even pay more for the {plan} plan.
        Is {feature} planned? We use the app every day.
        """,
        """
        Thanks for the idea! I've added your vote for {feature} to our feature list.
        We plan {feature} for later this year; I'll let you know when it ships.
        Good news: {feature} is in beta. Want me to turn it on for your account?
        We don't have {feature} yet, but this guide may help in the meantime: {url}
        +1 from us, {user} asked for the same thing last week.
        """,
    ),
    _topic(
        "team",
        8,
        """
        Weekly support sync
        Release {version} planning
        Onboarding {user}
        Holiday cover for {day}
        """,
        """
        Agenda for this week: refunds backlog, the {carrier} delays, and the {version} release.
        {user} starts on the support team on {day}. Who can show them the refund tools?
        Who can cover the chat queue on {day}? I'm out.
        Release {version} is planned for {day}. Please read the notes: {url}
        """,
        """
        I can take {day}.
        The refund backlog is down to 12 tickets, mostly orders from last week.
        I'll pair with {user} on the first day.
        Notes are in the wiki: {url}
        Can we move the sync to {day}? I have a call with a customer.
        Let's talk about the {carrier} delays first, that's where most complaints come from.
        Please tag the invoice questions so billing sees them.
        Good call, I'll update the macro for refund requests.
        """,
    ),
)

# Lines any conversation may contain, between the topic's own messages.
GENERAL = tuple(
    compile_template(line.strip())
    for line in """
    Thanks, that helps!
    Any update on this?
    Let me check with the team and get back to you.
    Sorry for the wait, we're busier than usual today.
    Could you confirm the email on your account?
    Is there anything else I can help with?
    Great, thank you so much!
    I sent the details to {email}.
    Following up on this, it's been a few days.
    {user} can you take a look at this one?
    I'll close this conversation then. Have a good {day}!
    Ok, I'll try that and let you know.
    No worries, happy to help.
    Just checking: did the last message reach you?
    My order number is {order}, if that helps.
    The help article is here: {url}
    I'm on {device}, app version {version}.
    Yes, that's my account.
    Please hold on a moment while I look into it.
    Thanks for your patience, {first}.
    """.strip().splitlines()
)

_TOPIC_CUM: list[int] = []
_total = 0
for _t in TOPICS:
    _total += _t.weight
    _TOPIC_CUM.append(_total)


def pick_topic(rng: random.Random) -> Topic:
    """A topic, weighted (refunds, billing and shipping are the most common)."""
    return rng.choices(TOPICS, cum_weights=_TOPIC_CUM)[0]


def thread_facts(rng: random.Random) -> dict[str, str]:
    """The facts one thread talks about: its order, invoice, product, plan, device …"""
    order = f"A-{rng.randint(1000, 99999)}"
    kind = rng.random()
    if kind < 0.5:
        url = f"https://shop.example.com/orders/{order}"
    elif kind < 0.85:
        url = f"https://help.example.com/articles/{rng.randint(100, 999)}-{rng.choice(ARTICLES)}"
    else:
        url = f"https://status.example.com/incidents/{rng.randint(1000, 9999)}"
    return {
        "order": order,
        "invoice": f"INV-{rng.randint(10000, 99999)}",
        "ticket": f"#{rng.randint(10000, 99999)}",
        "amount": f"{rng.choice(CURRENCIES)}{rng.randint(5, 480)}.{rng.choice(CENTS)}",
        "product": rng.choice(PRODUCTS),
        "plan": rng.choice(PLANS),
        "device": rng.choice(DEVICES),
        "carrier": rng.choice(CARRIERS),
        "day": rng.choice(DAYS),
        "error": rng.choice(ERRORS),
        "feature": rng.choice(FEATURES),
        "version": f"{rng.randint(3, 5)}.{rng.randint(0, 12)}.{rng.randint(0, 9)}",
        "card": f"{rng.randint(1000, 9999)}",
        "url": url,
    }


# Slots filled per message, from the author and the other participants.
PER_MESSAGE = frozenset(("user", "email", "first"))


def render(t: Template, facts: dict[str, str], person: Callable[[str], str]) -> str:
    """Fill `t`: thread facts from `facts`, per-message slots from `person(slot)`."""
    if not t.slots:
        return t.fmt.replace("%%", "%")
    return t.fmt % tuple(person(s) if s in PER_MESSAGE else facts[s] for s in t.slots)
