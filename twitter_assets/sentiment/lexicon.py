"""A small Portuguese sentiment lexicon, written by hand for this project (not copied from any resource).

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
"""

_NEGATIVE_STRONG = """
pessimo pessima pessimos pessimas horrivel horriveis odeio odiei odiando odio nojo nojento nojenta
lixo ridiculo ridicula ridiculos vergonha vergonhoso vergonhosa absurdo absurda terrivel terriveis
detesto detestei merda porcaria golpe fraude enganado enganada lamentavel decepcao decepcionado
decepcionada decepcionante desrespeito palhacada
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
_EMOJI_POSITIVE = "😀 😃 😄 😁 😆 😊 🙂 😉 😋 😎 🤗 👍 👌 💪 ✨ 🎉 🎊 🌟 ⭐ 🔥 ✅ 🙏 😂 🤣 😅 😹 💯 ♥ ☺ 😌 🤓"
_EMOJI_NEGATIVE_STRONG = "😡 🤬 😠 👎 💩 🤮 🤢 😤 😭"
_EMOJI_NEGATIVE = "😞 😔 😟 😕 🙁 ☹ 😣 😖 😫 😩 😢 😥 😰 😨 😱 😒 🙄 💔 😑 😐 😬 🤦 😪 ❌ 🖕"


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
