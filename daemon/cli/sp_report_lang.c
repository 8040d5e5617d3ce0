/*
 * sp_report_lang.c — the words of the art. 15 report (sp_report_lang.h).
 *
 * Plain words for the person the report is about, not the system's terms:
 * no tier names, no event names, no identifiers. The Dutch text is the one
 * a reader gets by default; the English follows it sentence by sentence.
 */
#include "sp_report_lang.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const texts[M_COUNT][2] = {
	[M_HTML_LANG] = { "nl", "en" },
	[M_TITLE] = { "Uw gegevens in Seinpost", "Your data in Seinpost" },
	[M_INTRO] = { "Dit overzicht beantwoordt uw verzoek om inzage (artikel 15 van de Algemene verordening "
	              "gegevensbescherming, AVG). U leest hier welke organisaties informatie over u hebben "
	              "gedeeld, met wie, wanneer en waarom, hoe lang die informatie wordt bewaard en welke "
	              "rechten u heeft.",
	              "This overview answers your request for access (article 15 of the General Data Protection "
	              "Regulation, GDPR). It shows which organisations shared information about you, with whom, "
	              "when and why, how long that information is kept and what your rights are." },
	[M_ABOUT] = { "Over", "About" },
	[M_MADE_ON] = { "Gemaakt op", "Made on" },
	[M_CONTROLLER] = { "Verantwoordelijk voor uw gegevens", "Responsible for your data (controller)" },
	[M_NOT_STATED] = { "(niet vermeld in het privacybeleid)", "(not stated in the privacy policy)" },
	/* (a) */
	[M_H_PURPOSES] = { "Waarvoor worden uw gegevens gebruikt?", "What is your data used for?" },
	[M_PURPOSE_GENERAL] = {
		"Organisaties die werken aan de veiligheid van jongeren, zoals de politie, scholen, jeugdzorg, de "
		"gemeente en het Zorg- en Veiligheidshuis, laten elkaar via Seinpost weten dat zij zich zorgen maken "
		"over een jongere. Zo kunnen zij op tijd hulp bieden en voorkomen dat jongeren in de criminaliteit "
		"terechtkomen. Hoeveel er gedeeld mag worden, hangt af van hoe ernstig de zorg is.",
		"Organisations that work on the safety of young people, such as the police, schools, youth care, "
		"the municipality and the Zorg- en Veiligheidshuis (care and safety house), use Seinpost to let each "
		"other know that they are worried about a young person, so that they can offer help in time and keep "
		"young people out of crime. How much may be shared depends on how serious the concern is." },
	[M_PURPOSE_RULES] = { "Het doel van elke keer dat er iets over u is gedeeld, zoals het privacybeleid het "
	                      "beschrijft:",
	                      "The purpose of each time something about you was shared, as the privacy policy "
	                      "describes it:" },
	/* (b) */
	[M_H_DATA] = { "Welke gegevens over u gaat het om?", "Which data about you is involved?" },
	[M_DATA_INTRO] = { "Er kunnen vier soorten informatie worden gedeeld; hieronder staat steeds welke:",
	                   "Four kinds of information can be shared; below you can see which, each time:" },
	[M_TIER_EXISTENCE] = { "dat er een zorg is gemeld", "that a concern was reported" },
	[M_TIER_CONTACT] = { "contactgegevens van de medewerker die de zorg meldde",
	                     "contact details of the professional who reported the concern" },
	[M_TIER_SUMMARY] = { "een korte samenvatting", "a short summary" },
	[M_TIER_FULL] = { "het volledige signaal (uw naam, BSN, geboortedatum, adres en het hele verhaal)",
	                  "the full signal (your name, citizen service number, date of birth, address and the "
	                  "whole account)" },
	[M_DATA_CATS] = { "Over u zijn deze soorten zorgen gemeld:", "These kinds of concern were reported about you:" },
	[M_WEIGHT_1] = { "een eerste, nog niet bevestigde zorg", "a first, unconfirmed concern" },
	[M_WEIGHT_2] = { "een bevestigde zorg", "a confirmed concern" },
	[M_WEIGHT_3] = { "een ernstige zorg", "a serious concern" },
	[M_AND] = { "en", "and" },
	/* (c) */
	[M_H_RECIPIENTS] = { "Met wie is informatie over u gedeeld?", "With whom was information about you shared?" },
	[M_RECIPIENTS_INTRO] = { "Elke keer dat informatie over u is gedeeld, staat hieronder één keer.",
	                         "Each time information about you was shared is listed once below." },
	[M_COL_WHEN] = { "Wanneer", "When" },
	[M_COL_TO] = { "Aan wie", "To whom" },
	[M_COL_WHAT] = { "Wat", "What" },
	[M_COL_WHY] = { "Waarom", "Why" },
	[M_COL_BASIS] = { "Wettelijke grondslag", "Legal basis" },
	[M_COL_OPENED] = { "Geopend?", "Opened?" },
	[M_NONE_SHARED] = { "Er is geen informatie over u gedeeld.", "No information about you was shared." },
	[M_RULE] = { "regel", "rule" },
	[M_VIA_IMMEDIATE] = { "Volgens het privacybeleid meteen bij de melding.",
	                      "Under the privacy policy, as soon as the concern was reported." },
	[M_VIA_INVOLVED] = { "Omdat deze organisatie had laten weten dat zij met u werkt.",
	                     "Because this organisation had registered that it works with you." },
	[M_VIA_MATCH] = { "Omdat deze organisatie zelf ook een zorg over u had gemeld.",
	                  "Because this organisation had itself reported a concern about you." },
	[M_VIA_ESCALATION] = { "Omdat meerdere organisaties zich zorgen maakten en uw situatie is doorgestuurd naar "
	                       "het Zorg- en Veiligheidshuis.",
	                       "Because several organisations were worried and your situation was referred to the "
	                       "Zorg- en Veiligheidshuis." },
	[M_OPENED_AT] = { "Ja, geopend op %s", "Yes, opened on %s" },               /* date */
	[M_NOT_OPENED] = { "Nee, niet geopend", "No, not opened" },
	[M_SYSTEM_AT] = { "Doorgegeven aan het eigen dossiersysteem op %s",         /* date */
	                  "Passed to its own case system on %s" },
	[M_PENDING] = { "Klaargezet op %s, nog niet opgehaald", "Made available on %s, not yet collected" },
	/* (d) */
	[M_H_RETENTION] = { "Hoe lang wordt de informatie bewaard?", "How long is the information kept?" },
	[M_RETENTION_INTRO] = { "Daarna wordt de melding gewist, met de sleutels die nodig zijn om haar te lezen; "
	                        "ook de organisaties die haar kregen wissen hun kopie.",
	                        "After that the report is deleted, with the keys needed to read it; the "
	                        "organisations that received it delete their copy too." },
	[M_RETENTION_LINE] = { "%s, %s: %s", "%s, %s: %s" },                     /* category, weight, period */
	[M_RETENTION_ESCALATED] = { "zolang het Zorg- en Veiligheidshuis de zaak behandelt: %s",
	                            "while the Zorg- en Veiligheidshuis handles the case: %s" },
	[M_DAYS] = { "%llu dagen", "%llu days" },
	[M_HOURS] = { "%llu uur", "%llu hours" },
	/* (e) */
	[M_H_RIGHTS] = { "Uw rechten", "Your rights" },
	[M_RIGHTS] = {
		"U heeft het recht om onjuiste gegevens te laten verbeteren (rectificatie, artikel 16 AVG), om "
		"gegevens te laten wissen (artikel 17), om het gebruik ervan te laten beperken (artikel 18) en om "
		"bezwaar te maken tegen het gebruik (artikel 21).",
		"You have the right to have incorrect data corrected (rectification, article 16 GDPR), to have data "
		"erased (article 17), to have its use restricted (article 18) and to object to its use (article 21)." },
	[M_RIGHTS_CONTACT] = { "Wilt u een van deze rechten gebruiken? Neem contact op met", /* then the contact */
	                       "To use any of these rights, contact" },
	[M_DPO] = { "Functionaris gegevensbescherming", "Data protection officer" },
	/* (f) */
	[M_H_COMPLAINT] = { "Een klacht indienen", "Lodging a complaint" },
	[M_COMPLAINT] = {
		"Bent u het niet eens met hoe er met uw gegevens is omgegaan? Dan kunt u een klacht indienen bij de "
		"Autoriteit Persoonsgegevens (www.autoriteitpersoonsgegevens.nl).",
		"If you disagree with how your data was handled, you can lodge a complaint with the Dutch data "
		"protection authority, the Autoriteit Persoonsgegevens (www.autoriteitpersoonsgegevens.nl)." },
	/* (g) */
	[M_H_SOURCE] = { "Waar komt de informatie vandaan?", "Where does the information come from?" },
	[M_SOURCE_NONE] = { "Er is geen zorg over u gemeld.", "No concern was reported about you." },
	[M_SOURCE_SIGNAL] = { "%s meldde op %s %s: %s.",        /* org, date, weight, category */
	                      "%s reported on %s %s: %s." },
	[M_SOURCE_INVOLVED] = { "%s liet op %s weten dat zij met u werkt.",          /* org, date */
	                        "%s registered on %s that it works with you." },
	[M_SOURCE_UNINVOLVED] = { "%s liet op %s weten dat zij niet meer met u werkt.",
	                          "%s registered on %s that it no longer works with you." },
	[M_SOURCE_REFUSED] = { "%s wilde op %s laten weten dat zij met u werkt; dat is geweigerd.",
	                       "%s tried on %s to register that it works with you; this was refused." },
	/* (h) */
	[M_H_AUTOMATED] = { "Worden er automatisch besluiten over u genomen?", "Are decisions about you automated?" },
	[M_AUTOMATED] = {
		"Nee. Er worden geen besluiten over u genomen die alleen door een computer worden genomen, en er "
		"wordt geen profiel van u gemaakt (artikel 22 AVG). Seinpost volgt wel vaste regels uit het "
		"privacybeleid om te bepalen wie een melding krijgt en wanneer uw situatie naar het Zorg- en "
		"Veiligheidshuis gaat; wat er daarna gebeurt, beslist altijd een medewerker.",
		"No. No decisions about you are taken by a computer alone, and no profile of you is made (article 22 "
		"GDPR). Seinpost does follow fixed rules from the privacy policy to decide who receives a report and "
		"when your situation goes to the Zorg- en Veiligheidshuis; what happens next is always decided by a "
		"person." },
	/* 15(2) */
	[M_H_TRANSFER] = { "Gaat de informatie naar het buitenland?", "Does the information leave the EU?" },
	[M_TRANSFER] = { "Nee. De informatie wordt niet doorgegeven aan landen buiten de Europese Unie of aan "
	                 "internationale organisaties.",
	                 "No. The information is not transferred to countries outside the European Union or to "
	                 "international organisations." },
	[M_H_EVENTS] = { "Wat er verder is gebeurd", "What else happened" },
	[M_EV_ESCALATED] = { "Op %s is uw situatie doorgestuurd naar het Zorg- en Veiligheidshuis, omdat meerdere "
	                     "zorgen samenkwamen.",                                   /* date */
	                     "On %s your situation was referred to the Zorg- en Veiligheidshuis, because several "
	                     "concerns came together." },
	[M_EV_STATUS] = { "Op %s heeft %s de doorverwijzing %s.",                  /* date, org, status */
	                  "On %s %s %s the referral." },
	[M_EV_MATCHED] = { "Op %s kreeg %s bericht dat ook een andere organisatie zich zorgen over u maakt.",
	                   "On %s %s was told that another organisation is worried about you too." },
	[M_EV_QUERY] = { "Op %s is opgezocht wie informatie over u heeft gezien (door %s).",   /* date, org */
	                 "On %s it was looked up who saw information about you (by %s)." },
	[M_EV_ALIAS] = { "Op %s zijn na een sleutelwissel twee verwijzingen naar u als dezelfde persoon gekoppeld "
	                 "(door %s).",
	                 "On %s, after a key change, two references to you were linked as the same person (by %s)." },
	[M_EV_MOVED] = { "Op %s heeft %s uw situatie naar een ander overleg verplaatst (%s); daarmee veranderde wie "
	                 "welke informatie over u mag zien.",                     /* date, org, move */
	                 "On %s %s moved your situation to another meeting (%s); with it changed who may see which "
	                 "information about you." },
	[M_EV_WITHDRAWN] = { "Op %s heeft %s dit signaal ingetrokken; wie het had ontvangen, moest het verwijderen.",
	                     "On %s %s withdrew this concern; everyone who had received it had to delete it." },
	[M_EV_OTHER] = { "Op %s: %s (%s).", "On %s: %s (%s)." },                /* date, event, org */
	[M_ST_ACCEPTED] = { "aangenomen", "accepted" },
	[M_ST_IN_PROGRESS] = { "in behandeling genomen", "took up" },
	[M_ST_INTERVENTION] = { "van een hulpaanbod voorzien", "started help under" },
	[M_ST_DECLINED] = { "niet aangenomen", "declined" },
	[M_ST_SCALED_DOWN] = { "afgeschaald", "scaled down" },
	[M_ST_CLOSED] = { "afgesloten", "closed" },
	[M_ST_OTHER] = { "bijgewerkt", "updated" },
	[M_H_COMPLETE] = { "Is dit overzicht volledig?", "Is this overview complete?" },
	[M_COMPLETE] = { "Ja. Elke regel in dit overzicht is gecontroleerd tegen het ondertekende logboek van het "
	                 "netwerk, en het logboek is in zijn geheel nagelopen.",
	                 "Yes. Every line of this overview was checked against the network's signed log, and the "
	                 "whole log was gone through." },
	[M_NOT_COMPLETE] = { "Dit overzicht is NIET als volledig bewezen.", "This overview is NOT proven complete." },
	[M_WARNING] = { "WARNING — LET OP: dit overzicht is NIET bewezen volledig.",
	                "WARNING: this overview is NOT proven complete." },
};

int sp_report_lang_parse(const char *s)
{
	if (s && strcmp(s, "nl") == 0)
		return SP_LANG_NL;
	if (s && strcmp(s, "en") == 0)
		return SP_LANG_EN;
	return -1;
}

const char *sp_report_lang_name(int lang)
{
	return lang == SP_LANG_EN ? "en" : "nl";
}

const char *sp_report_t(int lang, enum sp_report_msg m)
{
	const char *s = (unsigned)m < M_COUNT ? texts[m][lang == SP_LANG_EN] : NULL;
	return s ? s : "";
}

const char *sp_report_date(int lang, uint64_t ms, char *buf, size_t len)
{
	static const char *const months[2][12] = {
		{ "januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
		  "november", "december" },
		{ "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
		  "November", "December" },
	};
	time_t s = (time_t)(ms / 1000u);
	struct tm tm;
	gmtime_r(&s, &tm);
	snprintf(buf, len, "%d %s %d %s %02d:%02d UTC", tm.tm_mday, months[lang == SP_LANG_EN][tm.tm_mon],
	         tm.tm_year + 1900, lang == SP_LANG_EN ? "at" : "om", tm.tm_hour, tm.tm_min);
	return buf;
}
