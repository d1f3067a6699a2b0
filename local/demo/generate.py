"""Writes support-conversations.jsonl, the demo user's dataset in `make run`: customer-support chats for
a made-up home-appliance shop, in the chat format the validator accepts (pipeline/datasets/validation.py).

Deterministic (a fixed seed, no clock, no network): running it again writes the same bytes, and a test
checks that the committed file is exactly what it writes. English, with some non-ASCII text (names,
prices in euros and pounds, typographic quotes) as real support mail has.

    python -m local.demo.generate            # rewrites local/demo/support-conversations.jsonl
"""

import json
import random
import sys
from pathlib import Path
from typing import Final

OUTPUT: Final = Path(__file__).with_name("support-conversations.jsonl")
EXAMPLES: Final = 400
SEED: Final = 20261208

SHOP: Final = "Hearthline"
SYSTEM: Final = (
    f"You are {SHOP}'s customer support assistant. Answer politely and precisely, in the customer's "
    "words where you can, and say what happens next."
)

CUSTOMERS: Final = [
    "José", "Zoë", "Chloé", "Renée", "Björn", "Amélie", "Søren", "Noémie", "Łukasz", "Inês",
    "Priya", "Mark", "Hannah", "Omar", "Grace", "Tomás", "Aisha", "Dmitri", "Léa", "Sam",
]  # fmt: skip
PRODUCTS: Final = [
    ("the Aria 2 kettle", "€49.90"),
    ("the Breeze tower fan", "€89.00"),
    ("the Crema espresso machine", "€329.00"),
    ("the Dune robot vacuum", "€459.00"),
    ("the Ember toaster", "£39.99"),
    ("the Fjord dehumidifier", "€219.00"),
    ("the Glow smart lamp", "£24.50"),
    ("the Halo air purifier", "€199.00"),
]
ORDER_PREFIXES: Final = ["HL", "HX", "HQ"]
# The shop writes typographic apostrophes; about half of its customers' phones do too.
APOSTROPHE: Final = "\N{RIGHT SINGLE QUOTATION MARK}"


def _order(rng: random.Random) -> str:
    return f"{rng.choice(ORDER_PREFIXES)}-{rng.randint(100000, 999999)}"


def _days(rng: random.Random) -> int:
    return rng.choice([2, 3, 5, 7])


# Each topic: (the customer's first message, the assistant's answer, an optional follow-up pair). The
# placeholders are filled per example.
TOPICS: Final = [
    (
        "Hi, my order {order} for {product} still says “processing” after {late} days. When will it ship?",
        "Sorry for the wait, {name}. Order {order} is packed and leaves our warehouse today; you will get "
        "a tracking link by e-mail within a few hours, and delivery usually takes {days} working days.",
        (
            "Can I change the delivery address?",
            "Yes, as long as it has not left the warehouse: reply with the new address and I will update "
            "order {order} before it ships.",
        ),
    ),
    (
        "I received {product} but it doesn't turn on at all. I tried another socket.",
        "I'm sorry it arrived like that, {name}. Please hold the power button for 10 seconds to reset it; "
        "if it still stays dark, we will send a replacement at no cost and a prepaid label for the faulty "
        "one.",
        (
            "The reset didn't help.",
            "Thank you for trying. I have ordered a replacement for order {order}; it ships within "
            "{days} working days and the return label is in your inbox.",
        ),
    ),
    (
        "How do I return {product}? I changed my mind.",
        "No problem, {name}: you can return it within 30 days. Go to “My orders”, choose order {order}, "
        "then “Return an item”; the label is free and the refund of {price} reaches your card within "
        "{days} working days after we receive it.",
        None,
    ),
    (
        "I was charged twice for order {order}. Can you check?",
        "I can see two payments of {price} for order {order}, {name}: the second is a pre-authorisation "
        "that your bank releases automatically within {days} working days. If it is still there after "
        "that, send us the bank statement line and we will refund it ourselves.",
        None,
    ),
    (
        "Does {product} come with a warranty?",
        "Yes: every {shop} appliance has a two-year warranty from the delivery date, covering faults in "
        "materials and workmanship. Keep your order number ({order}) as proof of purchase.",
        (
            "Does the warranty cover accidental damage?",
            "Accidental damage is not covered by the standard warranty, but our repair service quotes "
            "a fixed price before any work starts.",
        ),
    ),
    (
        "The app can't find {product} on my Wi-Fi network.",
        "Let's fix that, {name}. The device needs a 2.4 GHz network: make sure your phone is on the same "
        "network, keep it within 3 metres during setup, then hold the Wi-Fi button until the light blinks "
        "blue and tap “Add device” again.",
        (
            "It blinks blue but the app still times out.",
            "Please restart your router and try once more; if it still fails, tell me your router's "
            "model and I will check it against our compatibility list.",
        ),
    ),
    (
        "Is {product} in stock? The page says “back soon”.",
        "It is expected back in stock within {days} days, {name}. Click “Notify me” on the product page "
        "and we will e-mail you the moment it can be ordered again at {price}.",
        None,
    ),
    (
        "Can I use a discount code after I've already placed order {order}?",
        "Codes can only be applied at checkout, {name}, but since order {order} has not shipped yet I can "
        "cancel it so you can order again with the code, or refund the code's value once it is delivered "
        "— whichever you prefer.",
        None,
    ),
    (
        "{product} makes a rattling noise since yesterday.",
        "Thanks for telling us, {name}. Please unplug it and check that nothing is stuck in the vents or "
        "the base; if the noise continues, send us a short video and we will arrange a free repair under "
        "warranty.",
        None,
    ),
    (
        "Do you deliver to Zürich? The checkout doesn't accept my postcode.",
        "We do deliver to Switzerland, {name}, but only from our EU warehouse: choose “International” at "
        "checkout and the postcode will be accepted. Customs duties are shown before you pay, and "
        "delivery takes {days} to 10 working days.",
        None,
    ),
]


def _typographic(text: str) -> str:
    return text.replace("'", APOSTROPHE)


def example(rng: random.Random) -> dict[str, list[dict[str, str]]]:
    name = rng.choice(CUSTOMERS)
    product, price = rng.choice(PRODUCTS)
    first, answer, follow_up = rng.choice(TOPICS)
    values = {
        "name": name,
        "product": product,
        "price": price,
        "order": _order(rng),
        "days": str(_days(rng)),
        "late": str(rng.randint(4, 12)),
        "shop": SHOP,
    }
    user = first.format(**values)
    customer = _typographic if rng.random() < 0.5 else str
    messages = []
    if rng.random() < 0.5:
        messages.append({"role": "system", "content": SYSTEM})
    messages += [
        {"role": "user", "content": customer(user[0].upper() + user[1:])},
        {"role": "assistant", "content": _typographic(answer.format(**values))},
    ]
    if follow_up is not None and rng.random() < 0.6:
        question, reply = follow_up
        messages += [
            {"role": "user", "content": customer(question.format(**values))},
            {"role": "assistant", "content": _typographic(reply.format(**values))},
        ]
    return {"messages": messages}


def lines(count: int = EXAMPLES, seed: int = SEED) -> list[str]:
    rng = random.Random(seed)  # noqa: S311 - sample data, nothing secret
    return [json.dumps(example(rng), ensure_ascii=False) for _ in range(count)]


def main() -> int:
    OUTPUT.write_text("".join(f"{line}\n" for line in lines()), encoding="utf-8")
    print(f"{OUTPUT}: {EXAMPLES} examples, {OUTPUT.stat().st_size:,} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
