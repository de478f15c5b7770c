//! The statements nested into blocks: a statement followed by `{` owns everything up to the
//! matching `}`.

use super::reader::{Fatal, Item};
use super::{Limits, Origin};

/// A statement and, when it opens one, its block.
#[derive(Clone, Debug)]
pub(super) struct Node {
    /// At least one word; the first is the keyword.
    pub(super) words: Vec<String>,
    /// The statement as written (after substitution), for commands.
    pub(super) text: String,
    pub(super) origin: Origin,
    pub(super) block: Option<Vec<Node>>,
}

impl Node {
    pub(super) fn keyword(&self) -> &str {
        self.words.first().map_or("", String::as_str)
    }

    /// Word `i` (the keyword is word 0).
    pub(super) fn arg(&self, i: usize) -> Option<&str> {
        self.words.get(i).map(String::as_str)
    }

    /// The words after the keyword.
    pub(super) fn args(&self) -> &[String] {
        self.words.get(1..).unwrap_or_default()
    }
}

/// Nests `items`. Braces must balance: a `}` that closes nothing, a `{` that follows no
/// statement (or a second `{` after one) and a `{` never closed are errors, as is nesting
/// deeper than the limit.
pub(super) fn build(items: Vec<Item>, limits: &Limits) -> Result<Vec<Node>, Fatal> {
    let mut stack: Vec<(Vec<Node>, Origin)> = Vec::new();
    let mut current: Vec<Node> = Vec::new();
    let mut after_words = false;
    for item in items {
        match item {
            Item::Words {
                words,
                text,
                origin,
            } => {
                current.push(Node {
                    words,
                    text,
                    origin,
                    block: None,
                });
                after_words = true;
            }
            Item::Open(origin) => {
                if !after_words {
                    return Err((
                        Some(origin),
                        "a `{` that follows no keyword (or a second `{` after one)".to_owned(),
                    ));
                }
                if stack.len() >= limits.block_depth {
                    return Err((
                        Some(origin),
                        format!("blocks nested more than {} deep", limits.block_depth),
                    ));
                }
                stack.push((std::mem::take(&mut current), origin));
                after_words = false;
            }
            Item::Close(origin) => {
                let Some((mut parent, _)) = stack.pop() else {
                    return Err((Some(origin), "a `}` that closes no block".to_owned()));
                };
                let children = std::mem::take(&mut current);
                if let Some(owner) = parent.last_mut() {
                    owner.block = Some(children);
                }
                current = parent;
                after_words = false;
            }
        }
    }
    if let Some((_, origin)) = stack.last() {
        return Err((
            Some(*origin),
            "the `{` opened here is never closed (the file ends first)".to_owned(),
        ));
    }
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(line: u32) -> Origin {
        Origin { file: 0, line }
    }

    fn w(s: &str, line: u32) -> Item {
        Item::Words {
            words: s.split(' ').map(str::to_owned).collect(),
            text: s.to_owned(),
            origin: o(line),
        }
    }

    #[test]
    fn nesting() {
        let items = vec![
            w("vrrp_instance A", 1),
            Item::Open(o(1)),
            w("state MASTER", 2),
            w("virtual_ipaddress", 3),
            Item::Open(o(3)),
            w("10.0.0.1", 4),
            Item::Close(o(5)),
            Item::Close(o(6)),
            w("x 1", 7),
        ];
        let nodes = build(items, &Limits::default()).unwrap();
        assert_eq!(nodes.len(), 2);
        let block = nodes[0].block.as_ref().unwrap();
        assert_eq!(block[1].block.as_ref().unwrap()[0].keyword(), "10.0.0.1");
        assert!(nodes[1].block.is_none());
    }

    #[test]
    fn unbalanced() {
        let limits = Limits::default();
        let e = build(vec![w("a", 1), Item::Close(o(2))], &limits).unwrap_err();
        assert_eq!(e.0, Some(o(2)));
        let e = build(vec![Item::Open(o(1))], &limits).unwrap_err();
        assert_eq!(e.0, Some(o(1)));
        let e = build(vec![w("a", 1), Item::Open(o(1)), w("b", 2)], &limits).unwrap_err();
        assert!(e.1.contains("never closed"));
        let mut deep = Vec::new();
        for i in 0..100 {
            deep.push(w("a", i));
            deep.push(Item::Open(o(i)));
        }
        assert!(build(deep, &limits).unwrap_err().1.contains("nested"));
    }
}
