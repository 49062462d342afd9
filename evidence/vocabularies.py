"""Which lists each issue area's report form asks for, and what they are called there."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise as Promise

from evidence.models import Term

V = Term.Vocabulary

# Issue areas by slug (campaigns.services.ISSUE_AREAS); any other area asks for the default.
AREA_LISTS: dict[str, list[str]] = {
    "bank-accounts": [V.INSTITUTION, V.EVENT, V.REASON, V.STATUS, V.DOCUMENT, V.OUTCOME],
    "vehicles": [V.PLACE, V.INSTITUTION, V.EVENT, V.REASON, V.OUTCOME],
    "visas": [V.INSTITUTION, V.EVENT, V.REASON, V.STATUS, V.DOCUMENT, V.OUTCOME],
    "documents": [V.INSTITUTION, V.EVENT, V.REASON, V.DOCUMENT, V.OUTCOME],
}
DEFAULT_LISTS = [V.INSTITUTION, V.EVENT, V.OUTCOME]

LABELS: dict[str, Promise] = {
    V.INSTITUTION: _("Institution"),
    V.PLACE: _("Border crossing or place"),
    V.EVENT: _("What happened"),
    V.REASON: _("Reason given"),
    V.STATUS: _("Your residence status at the time"),
    V.DOCUMENT: _("Documents you were asked for"),
    V.OUTCOME: _("Outcome so far"),
}
AREA_LABELS: dict[str, dict[str, Promise]] = {
    "bank-accounts": {V.INSTITUTION: _("Bank"), V.REASON: _("Reason the bank gave")},
    "vehicles": {V.INSTITUTION: _("Authority"), V.REASON: _("Legal basis cited")},
    "visas": {V.INSTITUTION: _("Authority or consulate")},
    "documents": {V.INSTITUTION: _("Authority")},
}

# The report's column for each single-choice list (documents are many: a many-to-many).
FIELDS: dict[str, str] = {
    V.INSTITUTION: "institution",
    V.PLACE: "place",
    V.EVENT: "event",
    V.REASON: "reason",
    V.STATUS: "residence_status",
    V.OUTCOME: "outcome",
}


def lists_for(slug: str) -> list[str]:
    return [str(v) for v in AREA_LISTS.get(slug, DEFAULT_LISTS)]


def label_for(slug: str, vocabulary: str) -> Promise:
    return AREA_LABELS.get(slug, {}).get(vocabulary) or LABELS[vocabulary]


# The lists every installation starts with (migration 0002 and ``terms_ensure``); moderators
# and staff add and retire entries from there. (issue area, list) -> [(English, Russian)].
DEFAULT_TERMS: dict[tuple[str, str], list[tuple[str, str]]] = {
    ("bank-accounts", "institution"): [
        ("Swedbank", "Swedbank"), ("SEB", "SEB"), ("Luminor", "Luminor"),
        ("Citadele", "Citadele"), ("Deutsche Bank", "Deutsche Bank"),
        ("Commerzbank", "Commerzbank"), ("Sparkasse", "Sparkasse"), ("ING", "ING"),
        ("BNP Paribas", "BNP Paribas"), ("Revolut", "Revolut"), ("N26", "N26"),
        ("Wise", "Wise"), ("PKO Bank Polski", "PKO Bank Polski"), ("Nordea", "Nordea"),
    ],
    ("bank-accounts", "event"): [
        ("Refused to open an account", "Отказ открыть счёт"),
        ("Account closed", "Счёт закрыт"),
        ("Account frozen", "Счёт заморожен"),
        ("Transfer blocked", "Перевод заблокирован"),
        ("Extra documents demanded", "Потребовали дополнительные документы"),
    ],
    ("bank-accounts", "reason"): [
        ("No reason given", "Причину не назвали"),
        ("Russian citizenship", "Российское гражданство"),
        ("Sanctions compliance", "Соблюдение санкций"),
        ("The bank's risk policy", "Политика рисков банка"),
        ("Missing documents", "Не хватает документов"),
    ],
    ("bank-accounts", "status"): [
        ("Temporary residence permit", "Временный вид на жительство"),
        ("Permanent residence", "Постоянный вид на жительство"),
        ("International protection (refugee)", "Международная защита (беженец)"),
        ("Asylum seeker", "Проситель убежища"),
        ("Humanitarian visa", "Гуманитарная виза"),
        ("Work permit or Blue Card", "Разрешение на работу или «голубая карта»"),
    ],
    ("bank-accounts", "document"): [
        ("Residence permit", "Вид на жительство"),
        ("Proof of address", "Подтверждение адреса"),
        ("Source of funds", "Происхождение средств"),
        ("Tax residence certificate", "Справка о налоговом резидентстве"),
        ("Employment contract", "Трудовой договор"),
    ],
    ("bank-accounts", "outcome"): [
        ("Still unresolved", "Не решено"),
        ("Account opened or reopened", "Счёт открыт или восстановлен"),
        ("Complaint filed", "Подана жалоба"),
        ("Moved to another bank", "Ушёл в другой банк"),
        ("Gave up", "Сдался"),
    ],
    ("vehicles", "place"): [
        ("Narva – Ivangorod", "Нарва – Ивангород"),
        ("Koidula – Kunichina Gora", "Койдула – Куничина Гора"),
        ("Vaalimaa – Torfyanovka", "Ваалимаа – Торфяновка"),
        ("Terehova – Burachki", "Терехова – Бурачки"),
        ("Inland, not at a border", "Внутри страны, не на границе"),
    ],
    ("vehicles", "institution"): [
        ("Customs", "Таможня"), ("Border guard", "Пограничная служба"), ("Police", "Полиция"),
    ],
    ("vehicles", "event"): [
        ("Refused entry", "Не пустили въехать"), ("Fined", "Штраф"),
        ("Vehicle seized", "Автомобиль изъят"),
        ("Forced re-registration", "Заставили перерегистрировать"),
    ],
    ("vehicles", "reason"): [
        ("EU sanctions (Regulation 833/2014)", "Санкции ЕС (регламент 833/2014)"),
        ("National customs rules", "Национальные таможенные правила"),
        ("No legal basis cited", "Правовое основание не названо"),
    ],
    ("vehicles", "outcome"): [
        ("Still unresolved", "Не решено"), ("Vehicle returned", "Автомобиль вернули"),
        ("Appeal filed", "Подана жалоба"), ("Fine paid", "Штраф уплачен"),
        ("Vehicle confiscated", "Автомобиль конфискован"),
    ],
    ("visas", "institution"): [
        ("Consulate", "Консульство"), ("Migration office", "Миграционная служба"),
        ("Visa centre", "Визовый центр"),
    ],
    ("visas", "event"): [
        ("Visa refused", "Отказ в визе"), ("Permit not renewed", "Вид на жительство не продлён"),
        ("Permit revoked", "Вид на жительство аннулирован"),
        ("Application not accepted", "Заявление не приняли"),
        ("Decision long overdue", "Решение сильно задерживается"),
    ],
    ("visas", "reason"): [
        ("No reason given", "Причину не назвали"),
        ("Security risk", "Угроза безопасности"),
        ("Insufficient means", "Недостаточно средств"),
        ("Russian citizenship", "Российское гражданство"),
    ],
    ("visas", "status"): [
        ("Visa", "Виза"), ("Temporary residence permit", "Временный вид на жительство"),
        ("Asylum seeker", "Проситель убежища"), ("No status", "Без статуса"),
    ],
    ("visas", "document"): [
        ("Valid passport", "Действующий паспорт"), ("Proof of means", "Подтверждение средств"),
        ("Certificate of no criminal record", "Справка о несудимости"),
    ],
    ("visas", "outcome"): [
        ("Still unresolved", "Не решено"), ("Granted after all", "В итоге выдали"),
        ("Appeal filed", "Подана жалоба"), ("Left the country", "Пришлось уехать"),
    ],
    ("documents", "institution"): [
        ("Russian consulate", "Российское консульство"),
        ("Local migration office", "Местная миграционная служба"),
        ("Civil registry office", "Органы записи актов гражданского состояния"),
    ],
    ("documents", "event"): [
        ("Passport not issued", "Паспорт не выдали"),
        ("Passport withheld", "Паспорт удержали"),
        ("Document not recognized", "Документ не признали"),
        ("Apostille refused", "Отказали в апостиле"),
    ],
    ("documents", "reason"): [
        ("No reason given", "Причину не назвали"),
        ("Criminal case in Russia", "Уголовное дело в России"),
        ("Military registration", "Воинский учёт"),
    ],
    ("documents", "document"): [
        ("Internal passport", "Внутренний паспорт"),
        ("Birth certificate", "Свидетельство о рождении"),
        ("Military ID", "Военный билет"),
    ],
    ("documents", "outcome"): [
        ("Still unresolved", "Не решено"), ("Issued after all", "В итоге выдали"),
        ("Travel document from the host country", "Проездной документ страны пребывания"),
    ],
    ("other", "institution"): [
        ("Employer", "Работодатель"), ("Landlord", "Арендодатель"),
        ("University", "Университет"), ("Insurer", "Страховая компания"),
    ],
    ("other", "event"): [
        ("Service refused", "Отказ в обслуживании"), ("Contract ended", "Договор расторгнут"),
        ("Unequal treatment", "Неравное обращение"),
    ],
    ("other", "outcome"): [("Still unresolved", "Не решено"), ("Resolved", "Решено")],
}  # fmt: skip
