"""A Portuguese sentiment lexicon (~950 words and emoji), written by hand for this project (not copied from any
resource, and not read off the labelled tweets: the words come from general knowledge of Brazilian Portuguese and
its Twitter register, e.g. `lacrou`, `mitou`, `vtnc`, `cringe`, `flopou`, 🐍 for a two-faced person).

Entries are in the normalised form the featuriser produces: lower case, accents stripped, letters
repeated three or more times collapsed. Polarity is +1/-1 (ordinary) or +2/-2 (strong). The learned model
decides how much these features count; the lexicon only gives it a prior that generalises past the small
training set (negation flips a word's polarity, intensifiers boost it, the clause after "mas" weighs more).
"""

from __future__ import annotations

_POSITIVE_STRONG = """
adorei adoro adorando adora amei amo amando ama apaixonado apaixonada apaixonante excelente excelentes
perfeito perfeita perfeitos perfeitas maravilhoso maravilhosa maravilhosos maravilhosas incrivel incriveis
sensacional sensacionais fantastico fantastica espetacular espetaculares lindo linda lindos lindas
otimo otima otimos otimas genial top topzera show incrivel fenomenal magnifico magnifica
lindissimo lindissima lindissimos lindissimas belissimo belissima perfeicao impecavel maravilha maravilhas
maravilhosamente apaixonei encantador encantadora encantada encantado mito mitou mitando lacrou lacrando
lacradora divou divando diva divas rainha deusa arrasa arrasam brilhando arrepiei arrepiante emocionei
emocionou emociona sensacionalmente iconico iconica icone idolo idola orgulhosissima maravilhosissimo
melhorzinho gratidao extraordinario extraordinaria divina divino
"""

_POSITIVE = """
bom boa bons boas gostei gosto gostando gostoso gostosa legal legais bacana bonito bonita bonitos bonitas
feliz felizes alegria alegre parabens obrigado obrigada obrigadao valeu agradeco agradecido agradecida
recomendo recomendado recomendada aprendi aprendendo aprender didatico didatica didaticos claro clara
facil faceis util uteis ajudou ajuda ajudando melhor melhores sucesso vitoria venceu ganhou massa
divertido divertida engracado engracada fofo fofa fofos querido querida lindeza orgulho orgulhosa
orgulhoso emocionante emocionada emocionado torcendo torco merece mereceu mereceram qualidade
excepcional eficiente rapido rapida confiavel satisfeito satisfeita curti curtindo curto
arrasou arrasando mandou brilhou brilhante talentoso talentosa competente delicia delicioso deliciosa
sorte esperanca paz amor carinho sonho aprovado aprovada conquista conquistei consegui recomendadissimo
belo bela belos belas lindinho lindinha lindinhos fofinho fofinha fofura fofuras amorzinho amores
apaixonadinha paixao gatinho gatinha charmoso charmosa elegante simpatico simpatica gentil educado educada
carismatico carismatica fofissimo fofissima hilario hilaria hilarios engracadissimo engracadissima
divertidissimo divertidissima rindo risada risadas gargalhada gargalhadas gargalhando contente contentes
animado animada animados empolgado empolgada empolgante empolgantes ansiosa ansioso merecido merecida
merecidos merecidissimo justo justa justica campeao campea campeoes vencedor vencedora vencedores vence vencer
venca ganha ganhar ganhe torcida favorito favorita favoritos preferido preferida caprichou capricho caprichado
caprichada saboroso saborosa saborosos apetitoso apetitosa suculento acertou acertaram acerto certeira
aplausos aplaudir palmas bravo viva uhul eba oba yay uau grato grata agradecer agradecimento inspirador
inspiradora inspiracao exemplo respeito admiro admiracao admiravel brabo braba brabissimo foda fodastico
sucessos hit classico relaxante tranquilidade alivio aliviado aliviada amavel amada amado amados adorada
adorado adoravel fofas simpatia carisma talento talentos genio genial criativo criativa criatividade original
incrivelmente bonzinho boazinha bonitinho bonitinha lindao lindona gostosinho felicidade sorrindo sorriso
sorrisos sorrir abraco abracos beijo beijos beijinho carinhoso carinhosa vitoriosa vitorioso aprovo aprovei
apoio apoiado parceria parceiro maneiro maneira irado sinistro brilhantes espetaculo obra prima arte artista
sabor saborear cheiroso elogio elogios elogiar celebrar comemorar comemoracao festa alegrou animou melhorou
evoluiu evolucao superou superacao
"""

_NEGATIVE_STRONG = """
pessimo pessima pessimos pessimas horrivel horriveis odeio odiei odiando odio nojo nojento nojenta
lixo ridiculo ridicula ridiculos vergonha vergonhoso vergonhosa absurdo absurda terrivel terriveis
detesto detestei merda porcaria golpe fraude enganado enganada lamentavel decepcao decepcionado
decepcionada decepcionante desrespeito palhacada
horroroso horrorosa horrorosos horror medonho medonha asqueroso asquerosa repugnante podre desgraca desgracado
desgracada maldito maldita odiosa odioso detestavel insuportaveis vexame humilhante humilhacao patetico
patetica pateticos marmelada roubalheira roubado roubada roubaram bosta bostas vtnc tnc fdp escroto escrota
canalha babaca babacas imbecil imbecis estupido estupida otario otaria cretino cretina verme lixos ridiculas
racista racismo machista machistas machismo homofobico homofobia misogino misoginia preconceituoso
preconceituosa preconceito revoltante inaceitavel abominavel
"""

_NEGATIVE = """
ruim ruins mal chato chata chatos chatas triste tristes tristeza caro caros carissimo raiva
irritado irritada irritante problema problemas erro erros bug bugado falha falhou falhando lento lenta
demora demorado demorada demorou atraso atrasado atrasou reclamar reclamacao reclamando cancelar
cancelei cancelamento reembolso pior piores fraco fraca fracos dificil complicado complicada
confuso confusa medo preocupado preocupada cansado cansada cansativo cansativa tedio chateado chateada
injusto injusta morte morreu morrer mentira mentiroso falso falsa feio feia feios errado errada
sofrendo sofrer dor chorar chorando chorei fracasso perdeu perdi perder vergonhoso desisti
desistir insuportavel inutil abandonou preguica burro burra idiota saco affs aff afff pqp vsf
chatice chatisse tedioso tediosa entediante entediada entediado sonolento mediocre mediocres ruinzinho
fraquissimo fraquissima feiura feiosa eca credo argh ugh afe affe puts putz droga porcaria falsidade hipocrita
hipocritas hipocrisia manipulador manipuladora manipulacao arrogante arrogancia prepotente metido metida
revoltado revoltada revolta indignado indignada indignacao injustica injustos injustas roubo armacao
vergonhosos palhaco palhacos palhaca circo decepcionei decepcionou decepcionaram desapontado desapontada
frustrado frustrada frustrante frustracao deprimente depressao deprimido deprimida lamento pena coitado
coitada coitadinha assustador assustadora pavor panico desespero desesperado desesperada aflicao aflito aflita
agonia angustia angustiante sofrimento sofri sofreu doente doenca matar mata assassino assassina violencia
crime criminoso corrupto corrupcao ladrao ladroes eliminado eliminada eliminacao derrota perdedor perdedora
fracassou errou erraram cancelado cancelada boicote cansei desisto enjoei enjoado enjoada forcado forcada
forcacao forcando exagero exagerado exagerada mimimi chorona chorao cringe mico micou flopou flop flopada
zoado zuado bagunca confusao caos piorou piora mau maus maldade malvado malvada cruel crueldade egoista
egoismo inveja invejoso invejosa recalque recalcada recalcado barraco briga brigando grosseria grosso grossa
grosseiro grosseira desnecessario desnecessaria estranho esquisito esquisita nojentos tortura castigo
sacanagem covarde covardia traicao traidor traidora traiu vacilo vacilou mancada chateia chateou aborrecido
aborrecida irritou irrita irritando estressado estressada estresse odiar detestar reclama reclamou feias
tristinho tristinha magoado magoada magoa machucou sofrida sofrido lastimavel vergonhosa desrespeitoso
desrespeitosa fake falsiane cobra cobras
"""

# Words that flip the polarity of the next few words (accent-stripped: "nao").
NEGATORS = frozenset("nao nunca jamais nem nenhum nenhuma ninguem nada sem".split())

# Words that boost the polarity of the next word ("muito bom" is more positive than "bom").
INTENSIFIERS = frozenset(
    "muito muita muitos muitas super mega demais extremamente totalmente bem tao tanto incrivelmente "
    "realmente bastante completamente absurdamente simplesmente mais".split()
)

# Clause contrast: the clause after these words carries the speaker's verdict ("bom, mas caro").
CONTRAST = frozenset("mas porem contudo entretanto todavia".split())

# Laughter after normalisation (the featuriser maps kkkk/rsrs/haha/hehe to this token; it survives the
# collapse of letters repeated 3+ times).
LAUGHTER_TOKEN = "kk"

_EMOJI_POSITIVE_STRONG = "😍 🥰 😘 ❤ 💖 💗 💕 💞 💓 💘 💜 💙 💚 💛 🧡 🤩 🥳 👏 🙌 🏆"
_EMOJI_POSITIVE = (
    "😀 😃 😄 😁 😆 😊 🙂 😉 😋 😎 🤗 👍 👌 💪 ✨ 🎉 🎊 🌟 ⭐ 🔥 ✅ 🙏 😂 🤣 😅 😹 💯 ♥ ☺ "
    "😌 🤓 😻 😽 💝 😇 🤤 👑 💃 🕺 🤘 🥂 🍾 💐 🌹 🌷 🌸 🎶 😺 😸 🤙 ✌ 👊 🆒 🤍 🖤 💟 ❣ 💋"
)
_EMOJI_NEGATIVE_STRONG = "😡 🤬 😠 👎 💩 🤮 🤢 😤 😭"
_EMOJI_NEGATIVE = (
    "😞 😔 😟 😕 🙁 ☹ 😣 😖 😫 😩 😢 😥 😰 😨 😱 😒 🙄 💔 😑 😐 😬 "
    "🤦 😪 ❌ 🖕 🤡 🐍 🗑 😿 😓 🤒 😷 🤕 ☠ 😾 👿 😈 💢 🤧 😶 🥀 🚫 ⛔"
)


def _words(block: str) -> list[str]:
    return [w.strip() for w in block.split()]


def polarity_entries() -> dict[str, float]:
    """Every lexicon entry (word or emoji) with its polarity; later groups never override earlier ones."""
    entries: dict[str, float] = {}
    for block, value in (
        (_POSITIVE_STRONG, 2.0),
        (_NEGATIVE_STRONG, -2.0),
        (_POSITIVE, 1.0),
        (_NEGATIVE, -1.0),
        (_EMOJI_POSITIVE_STRONG, 2.0),
        (_EMOJI_NEGATIVE_STRONG, -2.0),
        (_EMOJI_POSITIVE, 1.0),
        (_EMOJI_NEGATIVE, -1.0),
    ):
        for word in _words(block):
            entries.setdefault(word, value)
    entries.setdefault(LAUGHTER_TOKEN, 1.0)
    return entries
