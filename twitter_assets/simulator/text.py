"""Portuguese (and a little English) tweet templates and vocabulary for the synthetic corpus.

Templates name their slots (`{course}`, `{happy}`, ...); `TemplatePool.render` fills only the slots a
template uses, so generating a tweet costs a few RNG draws. `{account}` is filled by the caller.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence
from random import Random

COURSES = (
    "Python",
    "Java",
    "JavaScript",
    "TypeScript",
    "React",
    "Angular",
    "Node.js",
    "Spring Boot",
    "Data Science",
    "Machine Learning",
    "SQL",
    "Power BI",
    "Excel",
    "Flutter",
    "Kotlin",
    "C#",
    ".NET",
    "PHP",
    "Docker",
    "Kubernetes",
    "DevOps",
    "Git e GitHub",
    "HTML e CSS",
    "Front-end",
    "UX Design",
    "Figma",
    "Pandas",
    "Lógica de Programação",
    "Estatística",
    "Cloud AWS",
    "Segurança da Informação",
    "Go",
    "Next.js",
    "Linux",
    "Scrum",
    "IA generativa",
)
PROGRAMS = (
    "Imersão Dev",
    "Imersão Dados",
    "Imersão Java",
    "Imersão IA",
    "Imersão Front-end",
    "Formação Python",
    "Formação Java",
    "Formação Data Science",
    "Formação Front-end",
    "Formação DevOps",
    "Formação Power BI",
    "Alura Start",
    "Alura Língua",
    "Alura+",
    "ONE (Oracle Next Education)",
)
CONCEPTS = (
    "orientação a objetos",
    "recursão",
    "closures",
    "promises",
    "herança",
    "joins",
    "regressão linear",
    "hooks do React",
    "injeção de dependência",
    "ponteiros",
    "async/await",
    "list comprehension",
    "SOLID",
)
HAPPY = ("🚀", "😍", "🤩", "💙", "🎉", "👏", "🔥", "🥳", "😎", "🙌", "✨", "💪", "🤓")
SAD = ("😢", "😤", "😡", "🙄", "😩", "😕", "🤦", "😭")
HASHTAGS = (
    "#python",
    "#java",
    "#datascience",
    "#frontend",
    "#carreira",
    "#programação",
    "#dev",
    "#ImersãoDev",
    "#100DaysOfCode",
    "#tecnologia",
    "#estudos",
    "#alura",
)
DAYS = ("hoje", "amanhã", "sexta", "segunda", "nesse sábado", "semana que vem")
HOURS = ("14h", "18h30", "19h", "20h")
_LINK_CHARS = string.ascii_letters + string.digits

FIRST_NAMES = (
    "Ana",
    "Bruno",
    "Carla",
    "Daniel",
    "Eduarda",
    "Felipe",
    "Gabriela",
    "Gustavo",
    "Helena",
    "Igor",
    "Juliana",
    "João",
    "Karina",
    "Lucas",
    "Larissa",
    "Marcos",
    "Mariana",
    "Nicolas",
    "Natália",
    "Otávio",
    "Paula",
    "Pedro",
    "Rafael",
    "Renata",
    "Rodrigo",
    "Sabrina",
    "Thiago",
    "Tatiane",
    "Vinícius",
    "Vitória",
    "Wesley",
    "Yasmin",
    "Beatriz",
    "Caio",
    "Diego",
    "Fernanda",
    "Guilherme",
    "Isabela",
    "Leonardo",
    "Letícia",
    "Matheus",
    "Camila",
    "André",
    "Aline",
    "Henrique",
    "Jéssica",
    "Luiz",
    "Priscila",
    "Ricardo",
    "Simone",
    "Túlio",
    "Vanessa",
)
SURNAMES = (
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Rodrigues",
    "Ferreira",
    "Alves",
    "Pereira",
    "Lima",
    "Gomes",
    "Costa",
    "Ribeiro",
    "Martins",
    "Carvalho",
    "Almeida",
    "Lopes",
    "Soares",
    "Fernandes",
    "Vieira",
    "Barbosa",
    "Rocha",
    "Dias",
    "Nascimento",
    "Andrade",
    "Moreira",
    "Nunes",
    "Marques",
    "Machado",
    "Mendes",
    "Freitas",
    "Cardoso",
    "Ramos",
    "Gonçalves",
    "Santana",
    "Teixeira",
    "Araújo",
    "Pinto",
    "Correia",
    "Cavalcanti",
    "Moura",
)
BIOS = (
    "Dev {course} | estudante eterno",
    "Estudando {course} e tomando café ☕",
    "Transição de carreira para tech",
    "Engenheira de dados em formação",
    "Professor, pai e dev nas horas vagas",
    "Front-end dev 💻",
    "Analista de sistemas | {course}",
    "Apaixonado por tecnologia e games",
    "Aprendendo {course} um dia de cada vez",
    "Cientista de dados júnior",
    "Mãe, dev e corredora",
    "Back-end {course} | open source",
    "",
)

# Originals that mention the account: (sentiment weight) positive, neutral, negative.
POSITIVE = (
    "Terminei hoje o curso de {course} da @{account} {happy}",
    "Acabei de pegar o certificado de {course} na @{account}! Bora pro próximo {happy}",
    "A {program} da @{account} tá muito boa, recomendo demais {happy}",
    "Consegui meu primeiro emprego como dev! Obrigado @{account}, os cursos de {course} fizeram toda a diferença "
    "{happy}{happy}",
    "Estudando {course} na @{account} e finalmente entendi {concept} {happy}",
    "Melhor investimento que fiz esse ano foi a assinatura da @{account} {happy} {hashtag}",
    "Dia {n} de estudos de {course} com a @{account}. Constância é tudo {hashtag}",
    "Os instrutores da @{account} explicam {course} muito bem, sério",
    "Que aula incrível de {course} na @{account} hoje {happy}",
    "Fiz a transição de carreira estudando {course} na @{account}. Hoje sou dev júnior {happy}",
)
NEUTRAL = (
    "Alguém sabe se a {program} da @{account} emite certificado?",
    "Começando hoje a {program} da @{account}. Vamos ver como é",
    "Qual a ordem recomendada dos cursos de {course} na @{account}?",
    "Vale a pena assinar a @{account} pra aprender {course}? Quem já fez me conta",
    "@{account} vai ter {program} de novo esse ano?",
    "Alguém indo no evento da @{account} {day}?",
    "Estudando {course} na @{account}, alguém quer montar grupo de estudos?",
    "Vão dar desconto de Natal? @{account}",
)
NEGATIVE = (
    "O vídeo da aula de {course} não carrega de jeito nenhum @{account} {sad}",
    "Tentando cancelar a assinatura da @{account} faz uma semana e nada {sad}",
    "Cobraram duas vezes no meu cartão, @{account} como resolvo isso?",
    "O exercício do curso de {course} da @{account} tá com a resposta errada {sad}",
    "Suporte da @{account} demorando demais pra responder hoje {sad}",
    "Achei o curso de {course} da @{account} muito superficial, esperava mais",
    "A plataforma da @{account} tá fora do ar? Não consigo logar {sad}",
)
# Talk about the brand without the handle: found by the query `Alura`, not by `AluraOnline`.
BRAND_ONLY = (
    "Alguém aí já fez os cursos de {course} da Alura? São bons?",
    "Fechei a assinatura da Alura pra estudar {course} {happy}",
    "Indicação de curso de {course}: Alura, sem dúvidas",
    "Os podcasts da Alura são ótimos pra ouvir no ônibus",
    "Maratonando {course} na Alura nesse fim de semana {hashtag}",
)
ENGLISH = (
    "Just finished the {course} course on @{account}, great content! {happy}",
    "Anyone tried the {program} from @{account}? Worth it?",
    "Learning {course} with @{account}, the instructors are great",
)
UNDETERMINED = ("@{account} {happy}{happy}{happy}", "@{account} {link}", "{happy}{happy} @{account}")
# Replies to the account's posts; the caller prefixes "@{account} ".
REPLIES_TO_ACCOUNT = (
    "Amei essa novidade! {happy}",
    "Quando sai o curso de {course}?",
    "Vai ter live gravada?",
    "Já estou inscrito na {program} {happy}",
    "Meu certificado não aparece no perfil, podem verificar?",
    "Não consigo acessar a plataforma desde ontem {sad}",
    "Muito bom! Esse conteúdo de {course} tá demais",
    "{course}, com certeza!",
    "Eu quero! {happy}",
    "Melhor escola de tecnologia {happy}",
    "Esse desconto vale pra renovação?",
    "Faltou falar de {course} 👀",
)
# Replies inside a conversation; the caller prefixes the reply mentions.
THREAD_REPLIES = (
    "Também achei! O de {course} é muito bom",
    "Faz a {program}, vale muito a pena",
    "Comigo aconteceu a mesma coisa {sad}",
    "Parabéns!! {happy}",
    "Concordo demais",
    "Eu comecei por {course}, recomendo",
    "Tenta limpar o cache do navegador, comigo funcionou",
    "Manda no fórum que eles respondem rápido",
    "Bora! Me chama que eu entro no grupo",
    "Sucesso na caminhada {happy}",
)
ACCOUNT_POSTS = (
    "Hoje tem live sobre {course} às {hour} no nosso canal do YouTube! Ativa o lembrete {happy} {link}",
    "Inscrições abertas para a {program}! Aulas gratuitas e com certificado {happy} {link}",
    "Qual tecnologia você quer aprender em seguida? Conta pra gente 👇",
    "Cursos novos no ar {happy}\n\nVem conferir as novidades de {course} dessa semana: {link}",
    "No episódio do Hipsters Ponto Tech dessa semana falamos sobre {course}. Dá o play: {link}",
    "Dica rápida de {course}: comece pelos fundamentos e pratique todo dia. Constância vence talento {happy}",
    "Você sabia? Na {program} você tira dúvidas no fórum com os instrutores {happy} {link}",
    "Bom dia, dev! Qual curso você tá fazendo hoje? {happy}",
)
# The account answering someone; the caller prefixes "@{user} ".
ACCOUNT_REPLIES = (
    "Que notícia incrível! Parabéns pela conquista {happy}💙",
    "Oi! Sentimos muito pelo transtorno. Pode nos chamar por DM pra gente verificar? 💙",
    "Oi! Já encaminhamos para o time de suporte, em breve retornamos 💙",
    "Ficamos muito felizes em fazer parte da sua jornada {happy}",
    "Tem sim! Dá uma olhada aqui: {link}",
    "Bons estudos! Qualquer dúvida, chama no fórum 💙",
)
QUOTE_COMMENTS = (
    "Isso aqui é muito bom {happy}",
    "Recomendo demais! @{account}",
    "Olha que legal, {program} de novo",
    "Quem vai? 👇",
    "Não perde essa, galera {happy}",
    "Finalmente {course} {happy}",
)


def t_co_link(rng: Random) -> str:
    """A t.co short link, the only URL form tweet text carries."""
    return "https://t.co/" + "".join(rng.choices(_LINK_CHARS, k=10))


_SLOTS: dict[str, Callable[[Random], str]] = {
    "course": lambda rng: rng.choice(COURSES),
    "program": lambda rng: rng.choice(PROGRAMS),
    "concept": lambda rng: rng.choice(CONCEPTS),
    "happy": lambda rng: rng.choice(HAPPY),
    "sad": lambda rng: rng.choice(SAD),
    "hashtag": lambda rng: rng.choice(HASHTAGS),
    "day": lambda rng: rng.choice(DAYS),
    "hour": lambda rng: rng.choice(HOURS),
    "n": lambda rng: str(rng.randint(1, 100)),
    "link": t_co_link,
}
_SLOT_RE = re.compile(r"{(\w+)}")


class TemplatePool:
    """A set of templates rendered with random vocabulary; `{account}` comes from the caller."""

    def __init__(self, templates: Sequence[str]):
        self._compiled = [
            (template, tuple(slot for slot in dict.fromkeys(_SLOT_RE.findall(template)) if slot != "account"))
            for template in templates
        ]

    def render(self, rng: Random, account: str) -> str:
        template, slots = self._compiled[int(rng.random() * len(self._compiled))]
        return template.format(account=account, **{slot: _SLOTS[slot](rng) for slot in slots})
