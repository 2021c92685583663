//! OGC Filter Encoding 1.1 (`ogc:Filter`, as OWSLib's `owslib.fes` writes it) read into a [`Filter`]:
//! `And`/`Or`/`Not`, `PropertyIsLike` (with its `wildCard`, `singleChar` and `escapeChar`), `PropertyIsEqualTo`
//! and `NotEqualTo`, the ordering comparisons and `PropertyIsBetween` on `dct:modified`, `BBOX` with a
//! `gml:Envelope` in the axis order of its `srsName`, and `FeatureId`/`GmlObjectId` as identifiers. Anything
//! else is refused by name, never ignored.

use super::crs::{self, AxisOrder};
use super::dom::Element;
use super::exception::CswError;
use super::filter::{Comparison, Filter, Like, Property, MAX_CONDITIONS};

fn refuse(text: impl Into<String>) -> CswError {
    CswError::invalid("Constraint", text)
}

/// The filter of an `ogc:Filter` element.
pub fn parse(filter: &Element) -> Result<Filter, CswError> {
    if filter.local != "Filter" {
        return Err(refuse(format!(
            "expected an ogc:Filter, found {:?}",
            filter.local
        )));
    }
    let ids: Vec<&Element> = filter
        .children
        .iter()
        .filter(|c| c.local == "FeatureId" || c.local == "GmlObjectId")
        .collect();
    let f = if !ids.is_empty() && ids.len() == filter.children.len() {
        identifiers(&ids)?
    } else {
        match filter.children.as_slice() {
            [one] => predicate(one)?,
            [] => return Err(refuse("the ogc:Filter is empty")),
            _ => {
                return Err(refuse(
                    "an ogc:Filter holds one condition; combine several with ogc:And or ogc:Or",
                ))
            }
        }
    };
    if f.conditions() > MAX_CONDITIONS {
        return Err(refuse(format!(
            "a filter may have at most {MAX_CONDITIONS} conditions"
        )));
    }
    Ok(f)
}

fn identifiers(ids: &[&Element]) -> Result<Filter, CswError> {
    let mut out = Vec::new();
    for e in ids {
        let id = e
            .attr("fid")
            .or_else(|| e.attr("id"))
            .ok_or_else(|| refuse(format!("ogc:{} needs its identifier attribute", e.local)))?;
        out.push(Filter::compare(
            Property::Identifier,
            Comparison::Equal,
            id,
        )?);
    }
    Ok(if out.len() == 1 {
        out.remove(0)
    } else {
        Filter::Or(out)
    })
}

fn predicate(e: &Element) -> Result<Filter, CswError> {
    Ok(match e.local.as_str() {
        "And" | "Or" => {
            let parts = e.children.iter().map(predicate).collect::<Result<Vec<_>, _>>()?;
            if parts.is_empty() {
                return Err(refuse(format!("ogc:{} needs conditions", e.local)));
            }
            if e.local == "And" {
                Filter::And(parts)
            } else {
                Filter::Or(parts)
            }
        }
        "Not" => match e.children.as_slice() {
            [one] => Filter::Not(Box::new(predicate(one)?)),
            _ => return Err(refuse("ogc:Not holds exactly one condition")),
        },
        "PropertyIsLike" => {
            let (property, literal) = property_and_literal(e)?;
            let one_char = |name: &str, default: char| -> Result<char, CswError> {
                match e.attr(name) {
                    None => Ok(default),
                    Some(v) => {
                        let mut chars = v.chars();
                        match (chars.next(), chars.next()) {
                            (Some(c), None) => Ok(c),
                            _ => Err(refuse(format!("{name} must be one character"))),
                        }
                    }
                }
            };
            let wild = one_char("wildCard", '%')?;
            let single = one_char("singleChar", '_')?;
            // Filter 1.0 called it `escape`.
            let escape = match (e.attr("escapeChar"), e.attr("escape")) {
                (Some(_), _) => Some(one_char("escapeChar", '\\')?),
                (None, Some(_)) => Some(one_char("escape", '\\')?),
                (None, None) => None,
            };
            Filter::like(property, Like::parse(literal, wild, single, escape)?)?
        }
        "PropertyIsEqualTo" => comparison(e, Comparison::Equal)?,
        "PropertyIsNotEqualTo" => Filter::Not(Box::new(comparison(e, Comparison::Equal)?)),
        "PropertyIsLessThan" => comparison(e, Comparison::Less)?,
        "PropertyIsLessThanOrEqualTo" => comparison(e, Comparison::LessOrEqual)?,
        "PropertyIsGreaterThan" => comparison(e, Comparison::Greater)?,
        "PropertyIsGreaterThanOrEqualTo" => comparison(e, Comparison::GreaterOrEqual)?,
        "PropertyIsBetween" => {
            let property = property_name(e)?;
            let bound = |name: &str| -> Result<&str, CswError> {
                e.child(name)
                    .and_then(|b| b.child("Literal"))
                    .map(Element::trimmed_text)
                    .ok_or_else(|| refuse(format!("ogc:PropertyIsBetween needs ogc:{name}/ogc:Literal")))
            };
            Filter::And(vec![
                Filter::compare(property, Comparison::GreaterOrEqual, bound("LowerBoundary")?)?,
                Filter::compare(property, Comparison::LessOrEqual, bound("UpperBoundary")?)?,
            ])
        }
        "BBOX" => bbox(e)?,
        other => {
            return Err(refuse(format!(
                "ogc:{other} is not supported; use And, Or, Not, PropertyIsLike, PropertyIsEqualTo, PropertyIsNotEqualTo, PropertyIsLessThan(OrEqualTo), PropertyIsGreaterThan(OrEqualTo), PropertyIsBetween, BBOX or FeatureId"
            )))
        }
    })
}

fn property_name(e: &Element) -> Result<Property, CswError> {
    let name = e
        .child("PropertyName")
        .ok_or_else(|| refuse(format!("ogc:{} needs an ogc:PropertyName", e.local)))?;
    Property::parse(name.trimmed_text())
}

fn property_and_literal(e: &Element) -> Result<(Property, &str), CswError> {
    let property = property_name(e)?;
    let literal = e
        .child("Literal")
        .ok_or_else(|| refuse(format!("ogc:{} needs an ogc:Literal", e.local)))?;
    // A pattern's spaces are part of it; only a plain value is trimmed.
    Ok((property, literal.text.as_str()))
}

fn comparison(e: &Element, op: Comparison) -> Result<Filter, CswError> {
    let (property, literal) = property_and_literal(e)?;
    Filter::compare(property, op, literal.trim())
}

fn bbox(e: &Element) -> Result<Filter, CswError> {
    if let Some(name) = e.child("PropertyName") {
        if Property::parse(name.trimmed_text())? != Property::BoundingBox {
            return Err(refuse("ogc:BBOX applies to ows:BoundingBox"));
        }
    }
    let envelope = e
        .child("Envelope")
        .ok_or_else(|| refuse("ogc:BBOX needs a gml:Envelope"))?;
    // CSW 2.0.2's default CRS is EPSG:4326, latitude first (as pycsw reads a box without srsName).
    let order = crs::axis_order(envelope.attr("srsName"), AxisOrder::LatLon)?;
    let corner = |name: &str| -> Result<&str, CswError> {
        envelope
            .child(name)
            .map(Element::trimmed_text)
            .ok_or_else(|| refuse(format!("the gml:Envelope needs a gml:{name}")))
    };
    Ok(Filter::BBox(crs::envelope(
        corner("lowerCorner")?,
        corner("upperCorner")?,
        order,
    )?))
}

#[cfg(test)]
mod tests {
    use super::super::dom;
    use super::*;

    fn read(body: &str) -> Result<Filter, CswError> {
        let xml = format!(
            r#"<ogc:Filter xmlns:ogc="http://www.opengis.net/ogc" xmlns:gml="http://www.opengis.net/gml">{body}</ogc:Filter>"#
        );
        parse(&dom::parse(&xml)?)
    }

    #[test]
    fn owslib_filters_are_read() {
        let f = read(
            r#"<ogc:PropertyIsLike wildCard="%" singleChar="_" escapeChar="\"><ogc:PropertyName>csw:AnyText</ogc:PropertyName><ogc:Literal>%flood%</ogc:Literal></ogc:PropertyIsLike>"#,
        )
        .unwrap();
        assert_eq!(
            f,
            Filter::Like(
                Property::AnyText,
                Like::parse("%flood%", '%', '_', Some('\\')).unwrap()
            )
        );
        let f = read(
            r#"<ogc:BBOX><ogc:PropertyName>ows:BoundingBox</ogc:PropertyName><gml:Envelope srsName="urn:ogc:def:crs:EPSG::4326"><gml:lowerCorner>52.3 4.7</gml:lowerCorner><gml:upperCorner>52.5 5.1</gml:upperCorner></gml:Envelope></ogc:BBOX>"#,
        )
        .unwrap();
        assert_eq!(f, Filter::BBox([4.7, 52.3, 5.1, 52.5]));
        let f = read(
            r#"<ogc:BBOX><gml:Envelope srsName="urn:ogc:def:crs:OGC:1.3:CRS84"><gml:lowerCorner>4.7 52.3</gml:lowerCorner><gml:upperCorner>5.1 52.5</gml:upperCorner></gml:Envelope></ogc:BBOX>"#,
        )
        .unwrap();
        assert_eq!(f, Filter::BBox([4.7, 52.3, 5.1, 52.5]));
        let f = read(
            r#"<ogc:And><ogc:PropertyIsEqualTo><ogc:PropertyName>dc:type</ogc:PropertyName><ogc:Literal>dataset</ogc:Literal></ogc:PropertyIsEqualTo><ogc:Not><ogc:PropertyIsLike wildCard="*" singleChar="?" escapeChar="!"><ogc:PropertyName>dc:title</ogc:PropertyName><ogc:Literal>*heat*</ogc:Literal></ogc:PropertyIsLike></ogc:Not></ogc:And>"#,
        )
        .unwrap();
        assert!(matches!(&f, Filter::And(parts) if parts.len() == 2));
        let f = read(r#"<ogc:FeatureId fid="urn:a"/><ogc:FeatureId fid="urn:b"/>"#).unwrap();
        assert!(matches!(&f, Filter::Or(parts) if parts.len() == 2));
        let f = read(
            r#"<ogc:PropertyIsBetween><ogc:PropertyName>dct:modified</ogc:PropertyName><ogc:LowerBoundary><ogc:Literal>2024-01-01</ogc:Literal></ogc:LowerBoundary><ogc:UpperBoundary><ogc:Literal>2030-01-01</ogc:Literal></ogc:UpperBoundary></ogc:PropertyIsBetween>"#,
        )
        .unwrap();
        assert!(matches!(&f, Filter::And(parts) if parts.len() == 2));
    }

    #[test]
    fn what_cannot_be_answered_is_refused() {
        for (body, mentions) in [
            ("", "empty"),
            ("<ogc:Intersects/>", "Intersects"),
            (
                r#"<ogc:PropertyIsLike><ogc:PropertyName>dc:colour</ogc:PropertyName><ogc:Literal>x</ogc:Literal></ogc:PropertyIsLike>"#,
                "colour",
            ),
            (
                r#"<ogc:PropertyIsLike><ogc:PropertyName>dc:title</ogc:PropertyName></ogc:PropertyIsLike>"#,
                "Literal",
            ),
            (
                r#"<ogc:PropertyIsLike wildCard="%%"><ogc:PropertyName>dc:title</ogc:PropertyName><ogc:Literal>x</ogc:Literal></ogc:PropertyIsLike>"#,
                "one character",
            ),
            (
                r#"<ogc:BBOX><gml:Envelope srsName="EPSG:28992"><gml:lowerCorner>0 0</gml:lowerCorner><gml:upperCorner>1 1</gml:upperCorner></gml:Envelope></ogc:BBOX>"#,
                "EPSG:28992",
            ),
            (
                r#"<ogc:BBOX><gml:Envelope><gml:lowerCorner>north</gml:lowerCorner><gml:upperCorner>1 1</gml:upperCorner></gml:Envelope></ogc:BBOX>"#,
                "two numbers",
            ),
            (
                r#"<ogc:BBOX><ogc:PropertyName>dc:title</ogc:PropertyName><gml:Envelope/></ogc:BBOX>"#,
                "BoundingBox",
            ),
            (r#"<ogc:Not/>"#, "exactly one"),
            (
                r#"<ogc:PropertyIsLessThan><ogc:PropertyName>dc:title</ogc:PropertyName><ogc:Literal>x</ogc:Literal></ogc:PropertyIsLessThan>"#,
                "dct:modified",
            ),
        ] {
            let e = read(body).unwrap_err();
            assert!(e.text.contains(mentions), "{body}: {}", e.text);
            assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
        }
        let many = format!(
            "<ogc:Or>{}</ogc:Or>",
            r#"<ogc:PropertyIsEqualTo><ogc:PropertyName>dc:type</ogc:PropertyName><ogc:Literal>x</ogc:Literal></ogc:PropertyIsEqualTo>"#.repeat(65)
        );
        assert!(read(&many).unwrap_err().text.contains("at most"));
    }
}
