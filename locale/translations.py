"""German and French for the customer's side, written into the .po catalogs by
`python locale/translations.py` (then `django-admin compilemessages`; the .mo files are
committed, so nothing here runs at run time). English is the source language."""

import re
import sys
from pathlib import Path

T = {
    # msgid: (de, fr)
    "Tell us your name.": ("Bitte nennen Sie Ihren Namen.", "Indiquez votre nom."),
    "Keep your name under %(max)s characters.": ("Ihr Name darf höchstens %(max)s Zeichen lang sein.", "Votre nom doit faire moins de %(max)s caractères."),
    "Enter a valid email address so we can reach you.": ("Bitte geben Sie eine gültige E-Mail-Adresse an, damit wir Sie erreichen können.", "Saisissez une adresse e-mail valide pour que nous puissions vous joindre."),
    "Enter your email address.": ("Bitte geben Sie Ihre E-Mail-Adresse ein.", "Saisissez votre adresse e-mail."),
    "Enter your customer ID.": ("Bitte geben Sie Ihre Kundennummer ein.", "Saisissez votre numéro client."),
    "Keep the customer ID under %(max)s characters.": ("Die Kundennummer darf höchstens %(max)s Zeichen lang sein.", "Le numéro client doit faire moins de %(max)s caractères."),
    "Describe your problem in a few words.": ("Beschreiben Sie Ihr Anliegen in wenigen Worten.", "Décrivez votre problème en quelques mots."),
    "Keep the description under %(max)s characters.": ("Die Beschreibung darf höchstens %(max)s Zeichen lang sein.", "La description doit faire moins de %(max)s caractères."),
    "Enter the product ID.": ("Bitte geben Sie die Produktnummer ein.", "Saisissez la référence du produit."),
    "Keep the product ID under %(max)s characters.": ("Die Produktnummer darf höchstens %(max)s Zeichen lang sein.", "La référence produit doit faire moins de %(max)s caractères."),
    "Choose one of the listed topics.": ("Bitte wählen Sie eines der aufgeführten Themen.", "Choisissez l'un des sujets proposés."),
    "Choose what your question is about.": ("Bitte wählen Sie, worum es geht.", "Choisissez le sujet de votre question."),
    "This brand has no topics to chat about yet.": ("Für diese Marke gibt es noch keine Chat-Themen.", "Cette marque ne propose encore aucun sujet de discussion."),
    "Please tick this box to continue.": ("Bitte setzen Sie hier ein Häkchen, um fortzufahren.", "Cochez cette case pour continuer."),
    "This field is required.": ("Dieses Feld ist erforderlich.", "Ce champ est obligatoire."),
    "Keep it under %(max)s characters.": ("Höchstens %(max)s Zeichen.", "Moins de %(max)s caractères."),
    "Enter a valid email address.": ("Bitte geben Sie eine gültige E-Mail-Adresse ein.", "Saisissez une adresse e-mail valide."),
    "Enter a number.": ("Bitte geben Sie eine Zahl ein.", "Saisissez un nombre."),
    "Choose one of the options.": ("Bitte wählen Sie eine der Optionen.", "Choisissez l'une des options."),
    "This doesn't look right; check the format.": ("Das sieht nicht richtig aus; bitte prüfen Sie das Format.", "Cela ne semble pas correct ; vérifiez le format."),
    "We're closed right now.": ("Wir haben gerade geschlossen.", "Nous sommes fermés pour le moment."),
    "All our agents are busy and the queue is full.": ("Alle unsere Mitarbeitenden sind beschäftigt und die Warteschlange ist voll.", "Tous nos conseillers sont occupés et la file d'attente est pleine."),
    "No one can take a chat right now.": ("Gerade kann niemand einen Chat annehmen.", "Personne ne peut prendre de discussion pour le moment."),
    "The wait for a chat is long right now.": ("Die Wartezeit für einen Chat ist gerade lang.", "L'attente pour une discussion est longue en ce moment."),
    "Leave us a message and we will reply by email.": ("Hinterlassen Sie uns eine Nachricht, wir antworten per E-Mail.", "Laissez-nous un message, nous vous répondrons par e-mail."),
    "Thanks, we got your message and will reply by email.": ("Danke, wir haben Ihre Nachricht erhalten und antworten per E-Mail.", "Merci, nous avons bien reçu votre message et vous répondrons par e-mail."),
    "Thank you for your feedback.": ("Vielen Dank für Ihr Feedback.", "Merci pour votre avis."),
    "We're emailing the transcript to %(email)s.": ("Wir senden das Protokoll an %(email)s.", "Nous envoyons la transcription à %(email)s."),
    "Chat with %(brand)s": ("Chat mit %(brand)s", "Discuter avec %(brand)s"),
    "Close the chat": ("Chat schließen", "Fermer la discussion"),
    "%(count)s unread": ("%(count)s ungelesen", "%(count)s non lus"),
    "Chat · %(name)s": ("Chat · %(name)s", "Discussion · %(name)s"),
    "Chat": ("Chat", "Discussion"),
    "Help center": ("Hilfe-Center", "Centre d'aide"),
    "Loading…": ("Wird geladen…", "Chargement…"),
    "The chat needs JavaScript. You can still browse the help center.": ("Der Chat benötigt JavaScript. Das Hilfe-Center können Sie trotzdem nutzen.", "La discussion nécessite JavaScript. Vous pouvez toujours consulter le centre d'aide."),
    "How did we do? · %(name)s": ("Wie waren wir? · %(name)s", "Votre avis · %(name)s"),
    "How did we do?": ("Wie waren wir?", "Qu'en avez-vous pensé ?"),
    "This survey link has already been used or is no longer valid. Thank you all the same.": ("Dieser Umfrage-Link wurde bereits verwendet oder ist nicht mehr gültig. Trotzdem vielen Dank.", "Ce lien de questionnaire a déjà été utilisé ou n'est plus valide. Merci tout de même."),
    "Back to the help center": ("Zurück zum Hilfe-Center", "Retour au centre d'aide"),
    "Tell us about your chat with %(agent)s on %(date)s.": ("Erzählen Sie uns von Ihrem Chat mit %(agent)s am %(date)s.", "Parlez-nous de votre discussion avec %(agent)s le %(date)s."),
    "Tell us about your chat on %(date)s.": ("Erzählen Sie uns von Ihrem Chat am %(date)s.", "Parlez-nous de votre discussion du %(date)s."),
    "How satisfied are you? (1 = not at all, 5 = very)": ("Wie zufrieden sind Sie? (1 = gar nicht, 5 = sehr)", "Êtes-vous satisfait ? (1 = pas du tout, 5 = très)"),
    "Anything you'd like to add? (optional)": ("Möchten Sie noch etwas hinzufügen? (optional)", "Souhaitez-vous ajouter quelque chose ? (facultatif)"),
    "Send feedback": ("Feedback senden", "Envoyer mon avis"),
    "Skip to content": ("Zum Inhalt springen", "Aller au contenu"),
    "Chat with us": ("Chatten Sie mit uns", "Discutez avec nous"),
    "Your chat with %(brand)s": ("Ihr Chat mit %(brand)s", "Votre discussion avec %(brand)s"),
    "Started %(when)s (%(zone)s)": ("Begonnen am %(when)s (%(zone)s)", "Commencée le %(when)s (%(zone)s)"),
    "Topic: %(topic)s": ("Thema: %(topic)s", "Sujet : %(topic)s"),
    "Thank you for contacting %(brand)s.": ("Danke, dass Sie sich an %(brand)s gewandt haben.", "Merci d'avoir contacté %(brand)s."),
    "How did we do? Your chat with %(brand)s": ("Wie waren wir? Ihr Chat mit %(brand)s", "Qu'en avez-vous pensé ? Votre discussion avec %(brand)s"),
    "Hello %(name)s,": ("Hallo %(name)s,", "Bonjour %(name)s,"),
    "You recently chatted with %(agent)s. Would you rate the help you got? It takes ten seconds:": ("Sie haben kürzlich mit %(agent)s gechattet. Möchten Sie die Hilfe bewerten? Es dauert zehn Sekunden:", "Vous avez récemment discuté avec %(agent)s. Voulez-vous noter l'aide reçue ? Cela prend dix secondes :"),
    "The link works once.": ("Der Link funktioniert einmal.", "Le lien ne fonctionne qu'une fois."),
    # Attachments (chat.attachments, the widget API, the transcript)
    "This link has expired. Reload the chat to get a new one.": ("Dieser Link ist abgelaufen. Laden Sie den Chat neu, um einen neuen zu erhalten.", "Ce lien a expiré. Rechargez la discussion pour en obtenir un nouveau."),
    "Files can be up to %(size)s.": ("Dateien dürfen höchstens %(size)s groß sein.", "Les fichiers peuvent faire jusqu'à %(size)s."),
    "This image could not be read. Try another file.": ("Dieses Bild konnte nicht gelesen werden. Versuchen Sie eine andere Datei.", "Cette image n'a pas pu être lue. Essayez un autre fichier."),
    "This image is too large (in pixels) to show. Send a smaller one.": ("Dieses Bild hat zu viele Pixel, um es anzuzeigen. Senden Sie ein kleineres.", "Cette image est trop grande (en pixels) pour être affichée. Envoyez-en une plus petite."),
    "Files cannot be attached in this chat.": ("In diesem Chat können keine Dateien angehängt werden.", "Impossible de joindre des fichiers dans cette discussion."),
    "This file is empty.": ("Diese Datei ist leer.", "Ce fichier est vide."),
    "This kind of file cannot be attached. You can send: %(kinds)s.": ("Diese Art von Datei kann nicht angehängt werden. Sie können senden: %(kinds)s.", "Ce type de fichier ne peut pas être joint. Vous pouvez envoyer : %(kinds)s."),
    "The file's name says %(claimed)s but it contains %(actual)s. Rename it or send another file.": ("Der Dateiname sagt %(claimed)s, sie enthält aber %(actual)s. Benennen Sie sie um oder senden Sie eine andere Datei.", "Le nom du fichier indique %(claimed)s mais il contient du %(actual)s. Renommez-le ou envoyez un autre fichier."),
    "Files can be attached while the chat is going on.": ("Dateien können angehängt werden, solange der Chat läuft.", "Les fichiers peuvent être joints pendant la discussion."),
    "A message can carry up to %(count)s files.": ("Eine Nachricht kann höchstens %(count)s Dateien enthalten.", "Un message peut contenir jusqu'à %(count)s fichiers."),
    "A file in this message is not available. Attach it again.": ("Eine Datei dieser Nachricht ist nicht verfügbar. Hängen Sie sie erneut an.", "Un fichier de ce message n'est pas disponible. Joignez-le à nouveau."),
    "This chat has as many files as it can take.": ("Dieser Chat kann keine weiteren Dateien aufnehmen.", "Cette discussion ne peut pas recevoir plus de fichiers."),
    "Attached: %(name)s (%(size)s) %(link)s": ("Angehängt: %(name)s (%(size)s) %(link)s", "Pièce jointe : %(name)s (%(size)s) %(link)s"),
    # The chat page (djangojs)
    "Attach a file": ("Datei anhängen", "Joindre un fichier"),
    "Files to send": ("Zu sendende Dateien", "Fichiers à envoyer"),
    "Uploading… %(percent)s": ("Wird hochgeladen… %(percent)s", "Envoi en cours… %(percent)s"),
    "Ready to send": ("Bereit zum Senden", "Prêt à envoyer"),
    "Remove %(name)s": ("%(name)s entfernen", "Retirer %(name)s"),
    "This file could not be uploaded.": ("Diese Datei konnte nicht hochgeladen werden.", "Ce fichier n'a pas pu être envoyé."),
    "Image: %(name)s": ("Bild: %(name)s", "Image : %(name)s"),
    "Wait until your files have uploaded, then send.": ("Warten Sie, bis Ihre Dateien hochgeladen sind, und senden Sie dann.", "Attendez que vos fichiers soient envoyés, puis envoyez le message."),
    "We couldn't reach the server. Check your connection and try again.": ("Wir konnten den Server nicht erreichen. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.", "Impossible de joindre le serveur. Vérifiez votre connexion et réessayez."),
    "We couldn't confirm who you are.": ("Wir konnten Sie nicht identifizieren.", "Nous n'avons pas pu confirmer votre identité."),
    "We couldn't sign you in automatically: %(reason)s Please fill in your details.": ("Wir konnten Sie nicht automatisch anmelden: %(reason)s Bitte füllen Sie Ihre Angaben aus.", "Connexion automatique impossible : %(reason)s Veuillez renseigner vos informations."),
    "An agent": ("Ein Mitarbeiter", "Un conseiller"),
    "Reconnecting…": ("Verbindung wird wiederhergestellt…", "Reconnexion…"),
    "Your chat with %(name)s has ended": ("Ihr Chat mit %(name)s ist beendet", "Votre discussion avec %(name)s est terminée"),
    "Chat ended": ("Chat beendet", "Discussion terminée"),
    "The chat has ended": ("Der Chat ist beendet", "La discussion est terminée"),
    "Email me the transcript": ("Protokoll per E-Mail senden", "M'envoyer la transcription par e-mail"),
    "The transcript is on its way.": ("Das Protokoll ist unterwegs.", "La transcription est en route."),
    "We couldn't send the transcript.": ("Wir konnten das Protokoll nicht senden.", "Nous n'avons pas pu envoyer la transcription."),
    "Start a new chat": ("Neuen Chat beginnen", "Nouvelle discussion"),
    "Rate your chat from 1 (poor) to 5 (excellent)": ("Bewerten Sie Ihren Chat von 1 (schlecht) bis 5 (ausgezeichnet)", "Notez votre discussion de 1 (mauvais) à 5 (excellent)"),
    "Comment (optional)": ("Kommentar (optional)", "Commentaire (facultatif)"),
    "Choose a rating from 1 to 5.": ("Wählen Sie eine Bewertung von 1 bis 5.", "Choisissez une note de 1 à 5."),
    "We couldn't save your answer.": ("Wir konnten Ihre Antwort nicht speichern.", "Nous n'avons pas pu enregistrer votre réponse."),
    "Messages": ("Nachrichten", "Messages"),
    "Messages being sent": ("Nachrichten werden gesendet", "Messages en cours d'envoi"),
    "Type your message": ("Ihre Nachricht", "Votre message"),
    "Send": ("Senden", "Envoyer"),
    "Send a message": ("Eine Nachricht senden", "Envoyer un message"),
    "Message": ("Nachricht", "Message"),
    "Press Enter to send, Shift and Enter for a new line.": ("Eingabetaste zum Senden, Umschalt und Eingabetaste für eine neue Zeile.", "Entrée pour envoyer, Maj et Entrée pour aller à la ligne."),
    "End chat": ("Chat beenden", "Terminer la discussion"),
    "Chatting with %(name)s": ("Im Chat mit %(name)s", "En discussion avec %(name)s"),
    "You": ("Sie", "Vous"),
    "Agent": ("Mitarbeiter", "Conseiller"),
    "Sending…": ("Wird gesendet…", "Envoi…"),
    "Not sent: %(reason)s": ("Nicht gesendet: %(reason)s", "Non envoyé : %(reason)s"),
    "%(name)s is typing…": ("%(name)s schreibt…", "%(name)s écrit…"),
    "The agent": ("Der Mitarbeiter", "Le conseiller"),
    "Seen": ("Gelesen", "Lu"),
    "Choose…": ("Bitte wählen…", "Choisir…"),
    " (from your account)": (" (aus Ihrem Konto)", " (de votre compte)"),
    "Leave us a message": ("Hinterlassen Sie uns eine Nachricht", "Laissez-nous un message"),
    "We'll reply by email.": ("Wir antworten per E-Mail.", "Nous vous répondrons par e-mail."),
    "Tell us who you are and what you need; we'll suggest answers and connect you with an agent.": ("Sagen Sie uns, wer Sie sind und was Sie brauchen; wir schlagen Antworten vor und verbinden Sie mit einem Mitarbeiter.", "Dites-nous qui vous êtes et ce dont vous avez besoin ; nous vous proposerons des réponses et vous mettrons en relation avec un conseiller."),
    "About you": ("Über Sie", "Vous"),
    "Name": ("Name", "Nom"),
    "Email": ("E-Mail", "E-mail"),
    "Optional: for the transcript and our reply if we get cut off.": ("Optional: für das Protokoll und unsere Antwort, falls die Verbindung abbricht.", "Facultatif : pour la transcription et notre réponse si la connexion est coupée."),
    "Customer ID": ("Kundennummer", "Numéro client"),
    "Optional: from your account or order confirmation.": ("Optional: aus Ihrem Konto oder Ihrer Bestellbestätigung.", "Facultatif : indiqué dans votre compte ou votre confirmation de commande."),
    "Your question": ("Ihre Frage", "Votre question"),
    "Topic": ("Thema", "Sujet"),
    "What do you need help with?": ("Wobei brauchen Sie Hilfe?", "Sur quoi avez-vous besoin d'aide ?"),
    "Product ID": ("Produktnummer", "Référence produit"),
    "Optional: the product or order this is about.": ("Optional: das Produkt oder die Bestellung, um die es geht.", "Facultatif : le produit ou la commande concerné."),
    "Send message": ("Nachricht senden", "Envoyer le message"),
    "Start chat": ("Chat starten", "Démarrer la discussion"),
    "Please correct the highlighted fields.": ("Bitte korrigieren Sie die markierten Felder.", "Veuillez corriger les champs signalés."),
    "Something went wrong. Please try again.": ("Etwas ist schiefgelaufen. Bitte versuchen Sie es erneut.", "Une erreur s'est produite. Veuillez réessayer."),
    "Message sent": ("Nachricht gesendet", "Message envoyé"),
    "Finding your place in the queue…": ("Ihr Platz in der Warteschlange wird ermittelt…", "Recherche de votre place dans la file…"),
    "You're next: an agent is about to join.": ("Sie sind als Nächstes dran: gleich kommt ein Mitarbeiter dazu.", "Vous êtes le prochain : un conseiller arrive."),
    "Your place in the queue:": ("Ihr Platz in der Warteschlange:", "Votre place dans la file :"),
    "Estimated wait:": ("Geschätzte Wartezeit:", "Attente estimée :"),
    "Leave the queue": ("Warteschlange verlassen", "Quitter la file"),
    "Waiting for an agent": ("Warten auf einen Mitarbeiter", "En attente d'un conseiller"),
    "Keep this page open; an agent will join you here. You can already write below: they will read it when they join.": ("Lassen Sie diese Seite geöffnet; ein Mitarbeiter kommt hier dazu. Sie können schon unten schreiben: er liest es, sobald er da ist.", "Gardez cette page ouverte ; un conseiller vous rejoindra ici. Vous pouvez déjà écrire ci-dessous : il le lira en arrivant."),
    "You left the queue": ("Sie haben die Warteschlange verlassen", "Vous avez quitté la file"),
    "No problem. You can start a new chat whenever you like.": ("Kein Problem. Sie können jederzeit einen neuen Chat beginnen.", "Pas de problème. Vous pouvez démarrer une nouvelle discussion quand vous voulez."),
    "Read the article": ("Artikel lesen", "Lire l'article"),
    "Hide the article": ("Artikel ausblenden", "Masquer l'article"),
    "This solved my problem": ("Das hat mein Problem gelöst", "Cela a résolu mon problème"),
    "Chat with an agent": ("Mit einem Mitarbeiter chatten", "Discuter avec un conseiller"),
    "These articles might help": ("Diese Artikel könnten helfen", "Ces articles pourraient vous aider"),
    "Let's get you to an agent": ("Wir verbinden Sie mit einem Mitarbeiter", "Nous vous mettons en relation avec un conseiller"),
    "You asked: ": ("Ihre Frage: ", "Votre question : "),
    "We found no articles for this question.": ("Zu dieser Frage haben wir keine Artikel gefunden.", "Nous n'avons trouvé aucun article pour cette question."),
    "Still need help?": ("Brauchen Sie noch Hilfe?", "Besoin d'aide supplémentaire ?"),
    "Glad that helped!": ("Schön, dass es geholfen hat!", "Ravis d'avoir pu vous aider !"),
    "Thanks for letting us know that “%(title)s” solved your problem.": ("Danke für die Rückmeldung, dass „%(title)s“ Ihr Problem gelöst hat.", "Merci de nous avoir indiqué que « %(title)s » a résolu votre problème."),
    "Chat is unavailable": ("Der Chat ist nicht verfügbar", "La discussion n'est pas disponible"),
    "Please try again later.": ("Bitte versuchen Sie es später erneut.", "Veuillez réessayer plus tard."),
    "This chat is no longer available": ("Dieser Chat ist nicht mehr verfügbar", "Cette discussion n'est plus disponible"),
    "Start a new chat to reach us again.": ("Beginnen Sie einen neuen Chat, um uns wieder zu erreichen.", "Démarrez une nouvelle discussion pour nous joindre à nouveau."),
    "We open again %(when)s.": ("Wir sind wieder da: %(when)s.", "Nous rouvrons %(when)s."),
    "You're in the queue. An agent will be with you shortly.": ("Sie sind in der Warteschlange. Gleich ist ein Mitarbeiter für Sie da.", "Vous êtes dans la file d'attente. Un conseiller sera bientôt avec vous."),
    "%(name)s joined the chat.": ("%(name)s ist dem Chat beigetreten.", "%(name)s a rejoint la discussion."),
    "%(name)s ended the chat.": ("%(name)s hat den Chat beendet.", "%(name)s a mis fin à la discussion."),
    "The chat was closed after a period of inactivity.": ("Der Chat wurde nach einer Zeit ohne Aktivität geschlossen.", "La discussion a été fermée après une période d'inactivité."),
    "%(from)s transferred the chat to %(to)s.": ("%(from)s hat den Chat an %(to)s übergeben.", "%(from)s a transféré la discussion à %(to)s."),
    "%(name)s is passing you to a colleague. Please wait a moment.": ("%(name)s verbindet Sie mit einem Kollegen. Bitte warten Sie einen Moment.", "%(name)s vous transfère à un collègue. Veuillez patienter un instant."),
}
PLURALS = {
    "Are you still there? This chat will close in %(n)s minute unless you write.": (
        ("Sind Sie noch da? Dieser Chat wird in %(n)s Minute geschlossen, wenn Sie nicht schreiben.", "Sind Sie noch da? Dieser Chat wird in %(n)s Minuten geschlossen, wenn Sie nicht schreiben."),
        ("Êtes-vous toujours là ? Cette discussion sera fermée dans %(n)s minute si vous n'écrivez pas.", "Êtes-vous toujours là ? Cette discussion sera fermée dans %(n)s minutes si vous n'écrivez pas."),
    ),
    "about %(n)s minute": (("etwa %(n)s Minute", "etwa %(n)s Minuten"), ("environ %(n)s minute", "environ %(n)s minutes")),
}


def quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def fill(path: Path, index: int) -> list[str]:
    text = path.read_text()
    missing = []

    def one(match):
        msgid = match.group(1).replace('\\"', '"')
        if msgid in T:
            return f'msgid "{match.group(1)}"\nmsgstr "{quote(T[msgid][index])}"'
        missing.append(msgid)
        return match.group(0)

    # makemessages marks near-matches fuzzy with a guess (never compiled): ours replace them.
    text = re.sub(r"^#, fuzzy\n|^#\| .*\n", "", text, flags=re.M)
    text = re.sub(r"^#, fuzzy, ", "#, ", text, flags=re.M)
    text = re.sub(r'^msgid "(.+)"\nmsgstr ".*"$', one, text, flags=re.M)

    def plural(match):
        forms = PLURALS[match.group(1)][index]
        return f'msgid "{match.group(1)}"\nmsgid_plural "{match.group(2)}"\nmsgstr[0] "{quote(forms[0])}"\nmsgstr[1] "{quote(forms[1])}"'

    text = re.sub(r'^msgid "(.+)"\nmsgid_plural "(.+)"\nmsgstr\[0\] ""\nmsgstr\[1\] ""$', plural, text, flags=re.M)
    text = text.replace("Content-Type: text/plain; charset=CHARSET", "Content-Type: text/plain; charset=UTF-8")
    path.write_text(text)
    return missing


if __name__ == "__main__":
    root = Path(__file__).resolve().parent
    missing = []
    for index, language in enumerate(("de", "fr")):
        for domain in ("django", "djangojs"):
            missing += fill(root / language / "LC_MESSAGES" / f"{domain}.po", index)
    if missing:
        sys.exit("No translation for: " + "; ".join(sorted(set(missing))))
