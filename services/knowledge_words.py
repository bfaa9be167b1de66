"""What customers ask, in Portuguese, Spanish, French and German: the phrasings of the
built-in topics (services/knowledge.py keeps the English ones), the words that say nothing
about what is asked, and the words too general to decide a question alone.

Words are compared without accents ("incluido" is "incluído": customers on phones drop
them) and cut to their Snowball stem, so "crianças"/"criança", "incluye"/"incluido",
"enfants"/"enfant" and "Kinder"/"Kind" meet. A phrasing is a keyword set: every stem of
it should be in the question ("cadeira de rodas" needs both "cadeira" and "rodas")."""

from __future__ import annotations

import re

INCLUDED = "included"
BRING = "bring"
ACCESSIBILITY = "accessibility"
MIN_AGE = "min_age"
PICKUP = "pickup"
WEATHER = "weather"
DESCRIPTION = "description"
CANCELLATION = "cancellation_policy"
PRICES = "prices"
DURATION = "duration"
MEETING_POINT = "meeting_point"
DEPARTURES = "departures"
DISCOUNT = "discount"


def _split(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split("|") if p.strip())


TOPICS: dict[str, dict[str, tuple[str, ...]]] = {
    "pt": {
        INCLUDED: _split(
            "incluído|inclui|o que inclui|está incluído|almoço|jantar|pequeno-almoço|"
            "café da manhã|refeições|refeição|comida|bebidas|água|lanche|entradas|bilhetes|"
            "ingressos|licenças|alojamento|custos extra|não incluído|gorjetas|pagar à parte"
        ),
        BRING: _split(
            "levar|trazer|roupa|vestir|calçado|sapatos|ténis|botas|mochila|protetor solar|"
            "casaco|o que preciso|equipamento|material"
        ),
        ACCESSIBILITY: _split(
            "cadeira de rodas|cadeirante|acessível|acessibilidade|mobilidade reduzida|"
            "deficiência|deficiente|difícil|dificuldade|esforço físico|exigente|forma física|"
            "idosos|grávida|escadas|degraus|caminhar muito|joelhos|carrinho de bebé|"
            "carrinho de bebê|carrinho de criança"
        ),
        MIN_AGE: _split(
            "idade|idade mínima|crianças|criança|filho|filha|bebé|bebê|neto|neta|adolescente|"
            "5 anos|adequado para crianças|miúdos|pequenos"
        ),
        PICKUP: _split(
            "buscar ao hotel|ir buscar|recolha|transfer|transporte|hotel|apanhar no hotel|"
            "pegar no hotel"
        ),
        WEATHER: _split("chuva|chover|chove|mau tempo|neve|tempestade|frio|nublado|monção"),
        DESCRIPTION: _split(
            "mais informações|informação|detalhes|itinerário|programa|o que vamos ver|o que se faz"
        ),
        CANCELLATION: _split(
            "política de cancelamento|cancelamento grátis|cancelamento gratuito|"
            "cancelar de graça|cancelar sem custos|reembolso se cancelar|reembolsável|"
            "condições de cancelamento|taxa de cancelamento|política de reembolso|"
            "até quando cancelar|reembolso|reembolsos|devolvem o dinheiro|dinheiro de volta|"
            "devolução do dinheiro"
        ),
        PRICES: _split(
            "preço|preços|quanto custa|custo|valor|tarifa|preço para crianças|preço adulto"
        ),
        DURATION: _split(
            "quanto tempo|duração|quantas horas|quantos dias|a que horas acaba|termina|"
            "hora de fim|demora"
        ),
        MEETING_POINT: _split(
            "ponto de encontro|onde nos encontramos|onde é o encontro|local de partida|"
            "morada|endereço|localização|como chego|onde começa"
        ),
        DEPARTURES: _split(
            "próxima saída|próximas datas|horário|horários|a que horas|que dias|"
            "todos os dias|datas|quando é o próximo"
        ),
        DISCOUNT: _split(
            "desconto|estudante|promoção|código promocional|cupão|cupom|mais barato|"
            "desconto de grupo|oferta"
        ),
    },
    "es": {
        INCLUDED: _split(
            "incluido|incluye|qué incluye|está incluido|almuerzo|comida|cena|desayuno|"
            "bebidas|agua|entradas|tickets|permisos|alojamiento|costes extra|no incluido|"
            "propinas|pagar aparte"
        ),
        BRING: _split(
            "llevar|traer|ropa|vestir|calzado|zapatos|zapatillas|botas|mochila|"
            "protector solar|chaqueta|qué necesito|equipo|material"
        ),
        ACCESSIBILITY: _split(
            "silla de ruedas|accesible|accesibilidad|movilidad reducida|discapacidad|"
            "discapacitado|difícil|dificultad|exigente|forma física|personas mayores|"
            "embarazada|escaleras|escalones|caminar mucho|rodillas|carrito de bebé|carrito|"
            "cochecito|carriola"
        ),
        MIN_AGE: _split(
            "edad|edad mínima|niños|niño|niña|hijo|hija|bebé|nieto|nieta|adolescente|"
            "5 años|apto para niños|peques|críos"
        ),
        PICKUP: _split("recoger|recogida|hotel|traslado|transporte|nos recogen|buscar al hotel"),
        WEATHER: _split("lluvia|llueve|llover|mal tiempo|nieve|tormenta|frío|nublado|monzón"),
        DESCRIPTION: _split(
            "más información|información|detalles|itinerario|programa|qué vamos a ver|qué se hace"
        ),
        CANCELLATION: _split(
            "política de cancelación|cancelación gratuita|cancelación gratis|cancelar gratis|"
            "reembolso si cancelo|reembolsable|condiciones de cancelación|"
            "gastos de cancelación|política de reembolso|hasta cuándo cancelar|reembolso|"
            "reembolsos|devuelven el dinero|devolución|dinero de vuelta"
        ),
        PRICES: _split(
            "precio|precios|cuánto cuesta|cuánto vale|coste|costo|tarifa|precio niños|precio adulto"
        ),
        DURATION: _split(
            "cuánto tiempo|cuánto dura|duración|cuántas horas|cuántos días|"
            "a qué hora termina|termina|hora de fin"
        ),
        MEETING_POINT: _split(
            "punto de encuentro|dónde quedamos|dónde nos vemos|dónde empieza|"
            "punto de partida|dirección|ubicación|cómo llego"
        ),
        DEPARTURES: _split(
            "próxima salida|próximas fechas|horario|horarios|a qué hora|qué días|"
            "todos los días|fechas"
        ),
        DISCOUNT: _split(
            "descuento|estudiante|promoción|código promocional|cupón|más barato|"
            "descuento de grupo|oferta"
        ),
    },
    "fr": {
        INCLUDED: _split(
            "inclus|qu'est-ce qui est inclus|compris dans le prix|repas compris|"
            "déjeuner|dîner|petit-déjeuner|repas|nourriture|boissons|eau|entrées|billets|"
            "permis|hébergement|frais supplémentaires|pas inclus|pourboires"
        ),
        BRING: _split(
            "apporter|emporter|prendre avec|vêtements|s'habiller|tenue|chaussures|baskets|"
            "bottes|sac à dos|crème solaire|veste|de quoi a-t-on besoin|équipement|matériel"
        ),
        ACCESSIBILITY: _split(
            "fauteuil roulant|accessible|accessibilité|mobilité réduite|handicap|handicapé|"
            "difficile|difficulté|condition physique|personnes âgées|enceinte|escaliers|"
            "marches|marcher beaucoup|genoux|poussette"
        ),
        MIN_AGE: _split(
            "âge|âge minimum|enfants|enfant|fils|fille|bébé|petit-fils|ado|adolescent|"
            "5 ans|adapté aux enfants|pour les enfants|petits"
        ),
        PICKUP: _split(
            "prise en charge à l'hôtel|venir nous chercher|chercher à l'hôtel|hôtel|transfert|"
            "transport|navette"
        ),
        WEATHER: _split(
            "pluie|pleut|pleuvoir|météo|mauvais temps|neige|orage|tempête|froid|nuageux|mousson"
        ),
        DESCRIPTION: _split(
            "plus d'infos|informations|détails|itinéraire|programme|qu'est-ce qu'on voit|"
            "déroulement"
        ),
        CANCELLATION: _split(
            "politique d'annulation|annulation gratuite|annuler gratuitement|"
            "conditions d'annulation|frais d'annulation|remboursable|"
            "remboursement si j'annule|politique de remboursement|jusqu'à quand annuler|"
            "remboursement|remboursements|remboursé|rembourser"
        ),
        PRICES: _split(
            "prix|tarif|tarifs|combien ça coûte|combien coûte|c'est combien|coût|prix enfant|"
            "prix adulte"
        ),
        DURATION: _split(
            "combien de temps|durée|combien d'heures|combien de jours|ça dure|"
            "finit à quelle heure|heure de fin|termine"
        ),
        MEETING_POINT: _split(
            "point de rendez-vous|lieu de rendez-vous|où se retrouve|où on se retrouve|"
            "point de départ|adresse|où ça commence|comment y aller|"
            # "c'est où le rdv ?": rendez-vous as it is texted
            "rdv|point de rdv|lieu de rdv"
        ),
        DEPARTURES: _split(
            "prochain départ|prochaines dates|horaire|horaires|à quelle heure|quels jours|"
            "tous les jours|dates"
        ),
        DISCOUNT: _split(
            "réduction|étudiant|promo|code promo|coupon|moins cher|tarif de groupe|remise|offre"
        ),
    },
    "de": {
        INCLUDED: _split(
            "inklusive|inbegriffen|enthalten|im Preis|was ist dabei|Mittagessen|Abendessen|"
            "Frühstück|Essen|Verpflegung|Getränke|Wasser|Eintritt|Tickets|Genehmigungen|"
            "Unterkunft|Zusatzkosten|nicht inbegriffen|Trinkgeld|extra zahlen"
        ),
        BRING: _split(
            "mitbringen|mitnehmen|anziehen|Kleidung|Schuhe|Wanderschuhe|Stiefel|Rucksack|"
            "Sonnencreme|Jacke|was brauchen wir|Ausrüstung"
        ),
        ACCESSIBILITY: _split(
            "Rollstuhl|rollstuhlgerecht|barrierefrei|Rollstuhlfahrer|Gehbehinderung|"
            "behindert|Behinderung|schwierig|anstrengend|Kondition|Senioren|ältere Leute|"
            "schwanger|Treppen|Stufen|viel laufen|Knie|Kinderwagen|Buggy"
        ),
        MIN_AGE: _split(
            "Alter|Mindestalter|Kinder|Kind|Sohn|Tochter|Baby|Kleinkind|Enkel|Jugendliche|"
            "5 Jahre alt|kinderfreundlich|für Kinder geeignet"
        ),
        PICKUP: _split("Abholung|abholen|Hotel|Transfer|Transport|Shuttle|vom Hotel"),
        WEATHER: _split(
            "Regen|regnet|Wetter|schlechtes Wetter|Schnee|Sturm|Gewitter|kalt|bewölkt|Monsun"
        ),
        DESCRIPTION: _split(
            "mehr Infos|Informationen|Details|Reiseverlauf|Programm|was sehen wir|Ablauf"
        ),
        CANCELLATION: _split(
            "Stornobedingungen|Stornierungsbedingungen|kostenlos stornieren|"
            "kostenlose Stornierung|Stornogebühr|Stornogebühren|erstattungsfähig|"
            "Rücktrittsbedingungen|Storno Regeln|bis wann stornieren|Rückerstattung|"
            "Erstattung|Geld zurück|erstattet"
        ),
        PRICES: _split(
            "Preis|Preise|was kostet|wie viel kostet|Kosten|Kinderpreis|Preis für Kinder|"
            "Erwachsenenpreis"
        ),
        DURATION: _split(
            "wie lange|Dauer|dauert|wie viele Stunden|wie viele Tage|wann ist Schluss|"
            "wann endet|Ende"
        ),
        MEETING_POINT: _split(
            "Treffpunkt|wo treffen wir uns|wo geht es los|Startpunkt|Adresse|wie komme ich hin"
        ),
        DEPARTURES: _split(
            "nächster Termin|nächste Termine|Abfahrtszeiten|Uhrzeit|um wie viel Uhr|"
            "welche Tage|jeden Tag|Termine"
        ),
        DISCOUNT: _split(
            "Rabatt|Studentenrabatt|Student|Ermäßigung|Gutscheincode|Aktion|günstiger|"
            "Gruppenrabatt|Angebot"
        ),
    },
}

# Words that say nothing about what is asked (written without accents).
STOPWORDS: dict[str, frozenset[str]] = {
    "pt": frozenset(
        """
        a o os as um uma uns umas de do da dos das no na nos nas em ao aos pelo pela
        pelos pelas por para pra pro com sem que e ou se mas eu tu ele ela nos vos
        eles elas voce voces vcs vc me te lhe lhes meu minha meus minhas teu tua seu
        sua seus suas nosso nossa nossos nossas este esta estes estas isto esse essa
        esses essas isso aquele aquela aquilo ser estar esta estao sao sou era foi e
        tem ter temos tenho tenhos ha haver pode podem posso podemos poder dar vai
        vamos ir queria quero queremos gostaria gostariamos ola oi bom boa dia tarde
        noite obrigado obrigada favor pf pfv ai la aqui tambem ja entao so muito muita
        muitos muitas mais menos algum alguma alguem coisa passeio passeios tour tours
        excursao gente tipo sabe saber dizer diz hum ne qual quais como sera seria ok
        pessoal voces alo devo deve devemos preciso precisamos precisa equipa equipe
        """.split()  # noqa: SIM905
    ),
    "es": frozenset(
        """
        el la los las un una unos unas de del al a en con sin por para que y o u e si
        pero es son soy esta estan estoy yo tu el ella nosotros vosotros ellos ellas
        usted ustedes me te se le les nos os mi mis tus su sus nuestro nuestra
        nuestros nuestras este esta esto estos estas ese esa eso esos esas ser estar
        hay tener tiene tienen tenemos tengo teneis puede pueden puedo podemos podeis
        poder va vamos ir quiero queria queremos gustaria hola buenas buenos dias
        tardes noches gracias porfa favor aqui alli ahi tambien ya entonces solo muy
        mucho mucha muchos muchas mas menos algun alguna alguien algo cosa tour tours
        excursion gente vale oye cual cuales como lo saber sabeis decir ok debo debe
        debemos necesito necesitamos necesita hace falta
        """.split()  # noqa: SIM905
    ),
    "fr": frozenset(
        """
        le la les l un une des de du d au aux a en dans avec sans par pour que qu qui
        et ou si mais est sont suis c ce cet cette ces ca je j tu il elle on nous vous
        ils elles me m te t se s lui leur mon ma mes ton ta tes son sa ses notre nos
        votre vos etre avoir ai as avons avez ont y peut peux pouvons pouvez pouvoir
        puis faut fait faire va allons aller voudrais voudrait veux voulons bonjour
        bonsoir salut merci svp stp plait quel quelle quels quelles comment pourquoi
        aussi deja alors juste tres beaucoup plus moins quelque chose tour tours
        excursion visite ok bien n ne pas dois doit devons devez quoi
        """.split()  # noqa: SIM905
    ),
    "de": frozenset(
        """
        der die das den dem des ein eine einer einen einem eines und oder aber wenn ob
        dass zu zum zur im in an am auf aus bei mit von vom fur uber nach vor um es
        ist sind bin bist war ich du er sie wir ihr mir mich uns euch ihnen mein meine
        meinen meiner meinem unser unsere unseren dein ihre sein seine man kann konnen
        koennen kann darf durfen muss mussen soll sollen wird werden haben habe hat
        hatten gibt geben noch schon auch nur sehr mehr weniger etwas was welche
        welcher welches hallo hi guten tag danke bitte ja nein denn mal doch so tour
        touren ausflug hier da dort gerne mochte mochten moechte wurde wuerde ok
        eigentlich leute sollen sollten sollte brauchen brauche braucht
        """.split()  # noqa: SIM905
    ),
}

# Words of the built-in topics too general to decide a question on their own (the
# equivalents of knowledge.GENERAL_WORDS).
GENERAL: dict[str, str] = {
    "pt": """levar trazer preciso precisar idade anos ano crianca criancas filho filha custo
        preco quanto quando onde tempo horas hora dias dia datas proximo proxima comeca
        termina hotel transporte comida agua bebidas frio informacao informacoes detalhes
        caminhar degraus valor pequenos""",
    "es": """llevar traer necesito necesitar edad anos ano nino ninos nina hijo hija coste
        costo precio cuanto cuando donde tiempo horas hora dias dia fechas proxima proximo
        empieza termina hotel transporte comida agua bebidas frio informacion detalles
        caminar escalones peques""",
    "fr": """apporter emporter besoin age ans an enfant enfants fils fille cout prix combien
        quand ou temps heures heure jours jour dates prochain prochaine commence termine
        hotel transport nourriture eau boissons froid informations details marcher marches
        petits""",
    "de": """mitbringen mitnehmen brauchen alter jahre jahr kind kinder sohn tochter kosten
        kostet preis wie viel lange wann wo stunden stunde tage tag termine nachster
        nachste ende hotel transport essen wasser getranke kalt informationen details
        laufen stufen""",
}

# An age asked ("criança de 5 anos", "niño de 5 años", "enfant de 5 ans", "5 Jahre alt",
# "5-jährige"): the number is an age, not a party.
AGE = re.compile(
    r"\b(\d{1,2})\s*(?:-?\s*(?:anos|ano|años|año|anitos|añitos|ans|an|jahre|jahren|jahr|j\.)"
    r"\b|-?\s*j[äa]hrig\w*)",
    re.IGNORECASE,
)

# What a customer writes when they mean children ("crianças", "niños", "enfants", "Kinder"),
# for "a kids discount?": the children's price answers it.
CHILDREN = {
    "pt": "criança crianças filho filhos filha filhas miúdos miudos pequenos",
    "es": "niño niños niña niñas hijo hijos hija hijas peques críos",
    "fr": "enfant enfants fils fille filles petits",
    "de": "kind kinder sohn tochter kleinen",
}
